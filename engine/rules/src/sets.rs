//! Resolved address and port sets.
//!
//! Header specs (`[10.0.0.0/8,!10.1.0.0/16]`, `[80:100,!99]`) are resolved once at load time into
//! sorted, non-overlapping, merged inclusive ranges, so a lookup on the packet path is one binary
//! search and the sets compose with plain interval arithmetic (union, complement, difference).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An integer type usable as a range bound: ports (`u16`), IPv4 (`u32`) and IPv6 (`u128`).
pub trait Bound: Copy + Ord + fmt::Debug {
    /// Smallest value of the domain.
    const MIN: Self;
    /// Largest value of the domain.
    const MAX: Self;
    /// `self + 1`, `None` at the top of the domain.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, `None` at the bottom of the domain.
    fn pred(self) -> Option<Self>;
}

macro_rules! impl_bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
            fn pred(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
impl_bound!(u16, u32, u128);

/// A set of integers stored as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RangeSet<T: Bound> {
    ranges: Vec<(T, T)>,
}

impl<T: Bound> fmt::Debug for RangeSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ranges.iter()).finish()
    }
}

impl<T: Bound> Default for RangeSet<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: Bound> RangeSet<T> {
    /// The empty set.
    pub fn empty() -> Self {
        RangeSet { ranges: Vec::new() }
    }

    /// The whole domain.
    pub fn full() -> Self {
        RangeSet { ranges: vec![(T::MIN, T::MAX)] }
    }

    /// A single inclusive range (`lo > hi` gives the empty set).
    pub fn range(lo: T, hi: T) -> Self {
        if lo > hi {
            Self::empty()
        } else {
            RangeSet { ranges: vec![(lo, hi)] }
        }
    }

    /// Builds a set from arbitrary (possibly overlapping, unsorted) inclusive ranges.
    pub fn from_ranges(mut ranges: Vec<(T, T)>) -> Self {
        ranges.retain(|(lo, hi)| lo <= hi);
        ranges.sort_unstable();
        let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            if let Some(last) = out.last_mut() {
                // Merge overlapping *and* adjacent ranges so the representation is canonical
                // (equal sets compare equal).
                let touches = match last.1.succ() {
                    Some(next) => lo <= next,
                    None => true,
                };
                if touches {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
            }
            out.push((lo, hi));
        }
        RangeSet { ranges: out }
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    /// True when nothing is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// True when the set is the whole domain.
    pub fn is_full(&self) -> bool {
        self.ranges.len() == 1 && self.ranges[0] == (T::MIN, T::MAX)
    }

    /// Membership test: a binary search over the ranges.
    pub fn contains(&self, v: T) -> bool {
        // Index of the first range whose start is > v; the candidate is the one before it.
        let idx = self.ranges.partition_point(|&(lo, _)| lo <= v);
        idx > 0 && v <= self.ranges[idx - 1].1
    }

    /// Set union.
    pub fn union(&self, other: &Self) -> Self {
        let mut all = self.ranges.clone();
        all.extend_from_slice(&other.ranges);
        Self::from_ranges(all)
    }

    /// Everything in the domain that is not in `self`.
    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next = Some(T::MIN);
        for &(lo, hi) in &self.ranges {
            if let Some(start) = next {
                if start < lo {
                    // `lo > start >= MIN`, so `pred` cannot fail.
                    out.push((start, lo.pred().unwrap_or(T::MIN)));
                }
            }
            next = hi.succ();
        }
        if let Some(start) = next {
            out.push((start, T::MAX));
        }
        RangeSet { ranges: out }
    }

    /// `self \ other`.
    pub fn difference(&self, other: &Self) -> Self {
        self.intersection(&other.complement())
    }

    /// Set intersection (linear merge of the two sorted range lists).
    pub fn intersection(&self, other: &Self) -> Self {
        let (a, b) = (&self.ranges, &other.ranges);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        RangeSet { ranges: out }
    }
}

/// A resolved set of IPv4 and IPv6 addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    /// IPv4 addresses as host-order integers.
    pub v4: RangeSet<u32>,
    /// IPv6 addresses as host-order integers.
    pub v6: RangeSet<u128>,
}

impl IpSet {
    /// Matches nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Matches every IPv4 and IPv6 address (`any`).
    pub fn any() -> Self {
        IpSet { v4: RangeSet::full(), v6: RangeSet::full() }
    }

    /// One IPv4 CIDR block. `prefix` is clamped to 32.
    pub fn v4_cidr(addr: Ipv4Addr, prefix: u8) -> Self {
        let prefix = u32::from(prefix.min(32));
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        let lo = u32::from(addr) & mask;
        IpSet { v4: RangeSet::range(lo, lo | !mask), v6: RangeSet::empty() }
    }

    /// One IPv6 CIDR block. `prefix` is clamped to 128.
    pub fn v6_cidr(addr: Ipv6Addr, prefix: u8) -> Self {
        let prefix = u32::from(prefix.min(128));
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        let lo = u128::from(addr) & mask;
        IpSet { v4: RangeSet::empty(), v6: RangeSet::range(lo, lo | !mask) }
    }

    /// Membership test.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// True when no address matches.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// True when every address matches (lets the engine skip the check).
    pub fn is_any(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    /// Set union.
    pub fn union(&self, o: &Self) -> Self {
        IpSet { v4: self.v4.union(&o.v4), v6: self.v6.union(&o.v6) }
    }

    /// Complement over both address families.
    pub fn complement(&self) -> Self {
        IpSet { v4: self.v4.complement(), v6: self.v6.complement() }
    }

    /// `self \ o`.
    pub fn difference(&self, o: &Self) -> Self {
        IpSet { v4: self.v4.difference(&o.v4), v6: self.v6.difference(&o.v6) }
    }
}

/// A resolved set of TCP/UDP ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet(pub RangeSet<u16>);

impl PortSet {
    /// Matches nothing.
    pub fn empty() -> Self {
        PortSet(RangeSet::empty())
    }
    /// Matches every port (`any`).
    pub fn any() -> Self {
        PortSet(RangeSet::full())
    }
    /// An inclusive port range.
    pub fn range(lo: u16, hi: u16) -> Self {
        PortSet(RangeSet::range(lo, hi))
    }
    /// Membership test.
    pub fn contains(&self, port: u16) -> bool {
        self.0.contains(port)
    }
    /// True when no port matches.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// True when every port matches.
    pub fn is_any(&self) -> bool {
        self.0.is_full()
    }
    /// Set union.
    pub fn union(&self, o: &Self) -> Self {
        PortSet(self.0.union(&o.0))
    }
    /// Complement.
    pub fn complement(&self) -> Self {
        PortSet(self.0.complement())
    }
    /// `self \ o`.
    pub fn difference(&self, o: &Self) -> Self {
        PortSet(self.0.difference(&o.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_contains() {
        let s = RangeSet::<u16>::from_ranges(vec![(10, 20), (21, 30), (5, 7), (100, 100), (6, 8)]);
        assert_eq!(s.ranges(), &[(5, 8), (10, 30), (100, 100)]);
        for (v, want) in [(4, false), (5, true), (8, true), (9, false), (30, true), (31, false)] {
            assert_eq!(s.contains(v), want, "{v}");
        }
        assert!(s.contains(100) && !s.contains(101));
    }

    #[test]
    fn complement_edges() {
        let s = RangeSet::<u16>::from_ranges(vec![(0, 10), (65535, 65535)]);
        assert_eq!(s.complement().ranges(), &[(11, 65534)]);
        assert!(RangeSet::<u16>::full().complement().is_empty());
        assert!(RangeSet::<u16>::empty().complement().is_full());
    }

    #[test]
    fn difference_and_intersection() {
        let a = RangeSet::<u32>::range(0, 100);
        let b = RangeSet::<u32>::from_ranges(vec![(10, 20), (50, 200)]);
        assert_eq!(a.difference(&b).ranges(), &[(0, 9), (21, 49)]);
        assert_eq!(a.intersection(&b).ranges(), &[(10, 20), (50, 100)]);
    }

    #[test]
    fn cidr() {
        let s = IpSet::v4_cidr("10.1.2.3".parse().unwrap(), 8);
        assert!(s.contains("10.255.0.1".parse().unwrap()));
        assert!(!s.contains("11.0.0.0".parse().unwrap()));
        assert!(!s.contains("::1".parse().unwrap()));
        let s6 = IpSet::v6_cidr("2001:db8::".parse().unwrap(), 32);
        assert!(s6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!s6.contains("2001:db9::1".parse().unwrap()));
        assert!(IpSet::v4_cidr("0.0.0.0".parse().unwrap(), 0).v4.is_full());
    }
}
