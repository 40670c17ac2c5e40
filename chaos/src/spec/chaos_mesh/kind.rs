//! The ten Chaos Mesh kinds faultline accepts, by the name `kind:` gives them.

use std::fmt;

/// A Chaos Mesh kind faultline accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    NetworkChaos,
    PodChaos,
    HttpChaos,
    DnsChaos,
    StressChaos,
    TimeChaos,
    IoChaos,
    Schedule,
    Workflow,
    StatusCheck,
}

impl Kind {
    /// Every kind, the typed ones first.
    pub const ALL: [Kind; 10] = [
        Kind::NetworkChaos,
        Kind::PodChaos,
        Kind::HttpChaos,
        Kind::DnsChaos,
        Kind::StressChaos,
        Kind::TimeChaos,
        Kind::IoChaos,
        Kind::Schedule,
        Kind::Workflow,
        Kind::StatusCheck,
    ];

    /// The name as written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NetworkChaos => "NetworkChaos",
            Kind::PodChaos => "PodChaos",
            Kind::HttpChaos => "HTTPChaos",
            Kind::DnsChaos => "DNSChaos",
            Kind::StressChaos => "StressChaos",
            Kind::TimeChaos => "TimeChaos",
            Kind::IoChaos => "IOChaos",
            Kind::Schedule => "Schedule",
            Kind::Workflow => "Workflow",
            Kind::StatusCheck => "StatusCheck",
        }
    }

    /// The resource name in API paths and CRD names (`networkchaos`, `schedules`).
    pub fn plural(self) -> String {
        let lower = self.as_str().to_lowercase();
        match self {
            Kind::Schedule | Kind::Workflow | Kind::StatusCheck => format!("{lower}s"),
            _ => lower,
        }
    }

    /// The kind named exactly `name` (Kubernetes kinds are case-sensitive).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// "NetworkChaos, PodChaos, ...": for error messages.
    pub fn known_names() -> String {
        Kind::ALL.map(Kind::as_str).join(", ")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
