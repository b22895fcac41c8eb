//! Inspection stages that sit on top of the packet engine (`ids-pipeline`) and below detection.
//!
//! - [`app`]: application-layer protocol recognition by content and the per-flow parsers of
//!   `ids-app-layer` (HTTP, TLS, DNS, SSH, FTP/SMTP/POP3/IMAP banners), as a reusable
//!   [`AppLayer`] component and a thin [`AppLayerInspector`] for running it alone.
//! - [`sensor`]: the application layer plus rule detection ([`Sensor`]), producing
//!   `ids_output::Alert`s: what `ids -R rules` runs.

pub mod app;
pub mod sensor;

pub use app::{AppFlowState, AppLayer, AppLayerConfig, AppLayerInspector, AppRecord, AppStats};
pub use sensor::{Sensor, SensorFlow, SensorRules, SensorStats};
