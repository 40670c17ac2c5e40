//! `Instance`: one server a client can call, with the labels balancers route by.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A callable server: address, weight, and region/zone labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instance {
    /// `host:port`, resolved by the transport (tokio or turmoil).
    pub addr: Arc<str>,
    /// Relative weight for weighted balancers; 0 takes the instance out of rotation.
    pub weight: u32,
    pub region: Option<Arc<str>>,
    pub zone: Option<Arc<str>>,
    /// Any other labels (e.g. `version`, `canary`).
    pub tags: BTreeMap<String, String>,
}

impl Instance {
    pub const DEFAULT_WEIGHT: u32 = 100;

    pub fn new(addr: impl Into<Arc<str>>) -> Self {
        Self {
            addr: addr.into(),
            weight: Self::DEFAULT_WEIGHT,
            region: None,
            zone: None,
            tags: BTreeMap::new(),
        }
    }

    pub fn with_zone(mut self, region: impl Into<Arc<str>>, zone: impl Into<Arc<str>>) -> Self {
        self.region = Some(region.into());
        self.zone = Some(zone.into());
        self
    }

    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.addr)?;
        if let Some(zone) = &self.zone {
            write!(f, " ({zone})")?;
        }
        Ok(())
    }
}
