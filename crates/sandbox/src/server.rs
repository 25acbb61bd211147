//! Serving a sandbox on loopback. Sandboxes only ever bind 127.0.0.1: they hold fake credentials
//! and must never be reachable from another machine.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// A running HTTP server on 127.0.0.1. Dropping it without [`Server::shutdown`] leaves the task
/// running until the runtime ends.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    base_url: Url,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Serves `router` on an OS-chosen free port of 127.0.0.1.
pub async fn serve(router: Router) -> std::io::Result<Server> {
    serve_on(0, router).await
}

/// Serves `router` on `port` of 127.0.0.1 (0 = any free port). Handlers may extract
/// `ConnectInfo<SocketAddr>` to see the client address.
pub async fn serve_on(port: u16, router: Router) -> std::io::Result<Server> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let base_url = Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = result {
            tracing::warn!(message = "Sandbox server stopped with an error.", %error);
        }
    });
    Ok(Server {
        addr,
        base_url,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Server {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// Stops accepting connections and waits (at most two seconds) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn serves_on_loopback_and_shuts_down() {
        let server = serve(Router::new().route("/ping", get(|| async { "pong" })))
            .await
            .unwrap();
        assert!(server.addr().ip().is_loopback());
        let url = server.base_url().join("ping").unwrap();
        let body = raw_get(&url).await;
        assert!(body.ends_with("pong"), "{body}");
        server.shutdown().await;
        assert!(
            tokio::net::TcpStream::connect(url.socket_addrs(|| None).unwrap()[0])
                .await
                .is_err()
        );
    }

    async fn raw_get(url: &Url) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = url.socket_addrs(|| None).unwrap()[0];
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            url.path()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }
}
