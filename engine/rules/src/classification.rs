//! `classification.config`: `config classification: name,description,priority`.

use std::collections::HashMap;
use std::path::Path;

use crate::error::RuleError;

/// One classtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// Short name used by `classtype:`.
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Default priority (1 = highest).
    pub priority: u32,
}

/// The classtype table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassificationTable {
    map: HashMap<String, Classification>,
}

impl ClassificationTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a `classification.config` file. Bad lines are returned as errors; good ones are
    /// kept.
    pub fn load(path: &Path) -> Result<(Self, Vec<RuleError>), std::io::Error> {
        let text = std::fs::read_to_string(path)?;
        let mut t = Self::new();
        let errors = t.parse_str(&text, &path.display().to_string());
        Ok((t, errors))
    }

    /// Adds every `config classification:` line of `text`; returns the lines it could not use.
    /// Other lines (comments, blank, other `config` directives) are skipped.
    pub fn parse_str(&mut self, text: &str, file: &str) -> Vec<RuleError> {
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(rest) = classification_value(t) {
                if let Err(reason) = self.add_line(rest) {
                    let column = line.len() - line.trim_start().len() + 1;
                    errors.push(RuleError {
                        file: file.to_owned(),
                        line: i + 1,
                        column,
                        text: t.to_owned(),
                        reason,
                    });
                }
            }
        }
        errors
    }

    /// Adds one `name,description,priority` value. Later definitions replace earlier ones.
    pub fn add_line(&mut self, value: &str) -> Result<(), String> {
        // name = up to the first comma, priority = after the last one; the description in
        // between may itself contain commas.
        let (Some((name, rest)), Some((_, priority))) = (value.split_once(','), value.rsplit_once(','))
        else {
            return Err("classification needs name,description,priority".into());
        };
        let Some((description, _)) = rest.rsplit_once(',') else {
            return Err("classification needs name,description,priority".into());
        };
        let (name, description, priority) = (name.trim(), description.trim(), priority.trim());
        if name.is_empty() {
            return Err("empty classification name".into());
        }
        let priority =
            priority.parse::<u32>().map_err(|_| format!("invalid classification priority `{priority}`"))?;
        self.map.insert(
            name.to_owned(),
            Classification { name: name.to_owned(), description: description.to_owned(), priority },
        );
        Ok(())
    }

    /// Looks a classtype up.
    pub fn get(&self, name: &str) -> Option<&Classification> {
        self.map.get(name)
    }

    /// Number of classtypes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Merges another table into this one (entries of `other` win).
    pub fn extend(&mut self, other: ClassificationTable) {
        self.map.extend(other.map);
    }
}

/// The value of a `config classification: ...` line, if `line` is one.
pub(crate) fn classification_value(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("config")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    rest.trim_start().strip_prefix("classification")?.trim_start().strip_prefix(':').map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let mut t = ClassificationTable::new();
        let errs = t.parse_str(
            "# c\nconfig classification: not-suspicious,Not Suspicious Traffic,3\n\
             config classification:trojan-activity, A Network Trojan, was detected ,1\n\
             config classification: broken,no priority\nconfig reference: x http://\n",
            "c.config",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.get("not-suspicious").unwrap().priority, 3);
        // Descriptions may contain commas.
        assert_eq!(t.get("trojan-activity").unwrap().description, "A Network Trojan, was detected");
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].column), (4, 1));
    }
}
