//! The same Echo call through the transport seam on tokio TCP (loopback) and on turmoil's
//! simulated network (feature `sim`): server and raw client are generic over `Net`, and
//! nothing but the `Net` value differs.

mod server_support;

use std::future::pending;

use faultline_core::echo;
use faultline_core::net::{Net, Sim, Tcp};
use faultline_core::server::ServerBuilder;
use server_support::echo_once;

/// Serves Echo on `addr` over `net` until the task is dropped.
async fn serve_forever<N: Net>(net: N, addr: &str) -> std::io::Result<()> {
    let _server = ServerBuilder::new(echo::SERVICE)
        .bind(&net, addr, echo::router())
        .await?;
    pending::<()>().await;
    Ok(())
}

#[tokio::test]
async fn echo_over_tokio_tcp() {
    let server = ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .expect("bind");
    let addr = server.local_addr().to_string();
    assert_eq!(echo_once(&Tcp, &addr, "over tcp").await, "over tcp");
    server.shutdown().await;
}

#[test]
fn echo_over_turmoil() {
    let mut sim = turmoil::Builder::new().build();
    sim.host("server", || async {
        serve_forever(Sim, "0.0.0.0:9090").await?;
        Ok(())
    });
    sim.client("client", async {
        assert_eq!(
            echo_once(&Sim, "server:9090", "over turmoil").await,
            "over turmoil"
        );
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}
