//! What a call costs on this machine before any modelled latency: the median round trip of
//! sequential calls through the experiment's client stack to one instance, with no fault
//! proxy and no link latency. The proxies add the topology's round trips less this, so
//! that a call across a zone takes what the topology says, not that plus loopback, the
//! stack and the server's own time (the simulation likewise takes off the tick turmoil
//! already spends).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::event::EventBus;
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::rpc::Instance;

/// Calls made and not counted (connection set-up, first allocations).
const WARM_UP: usize = 50;
/// Calls timed.
const TIMED: usize = 300;

/// The median round trip of a call to `addr` with `config`'s pool, transport and
/// protocol; `None` when calls fail (the run then adds the topology's figures in full).
pub async fn round_trip(addr: SocketAddr, config: &ClientConfig) -> Option<Duration> {
    let config = ClientConfig {
        pool: config.pool.clone(),
        ..ClientConfig::default()
    };
    let discovery = Discovery::new([Instance::new(addr.to_string())]);
    let client = Client::from_config(&config, Tcp, discovery, EventBus::default()).ok()?;
    let echo = EchoClient::new(client, config.pool.protocol);
    for _ in 0..WARM_UP {
        echo.echo("calibrate").await.ok()?;
    }
    let mut times = Vec::with_capacity(TIMED);
    for _ in 0..TIMED {
        let start = Instant::now();
        echo.echo("calibrate").await.ok()?;
        times.push(start.elapsed());
    }
    times.sort_unstable();
    Some(times[TIMED / 2])
}
