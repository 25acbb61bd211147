//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) opens `report.html` from disk behind a proxy that counts every connection, takes a
//! screenshot and dumps the DOM. The page must make no request, and the charts must have
//! rendered with their data.
//!
//! Chromium itself talks to a few Google service hosts at start-up whatever the page (the
//! sign-in ListAccounts call cannot be switched off; a blank page does the same). Those hosts
//! are told apart by name ([`BROWSER_OWN_HOSTS`]): the page names no host at all (checked on
//! the HTML), so any page request would reach the proxy under another name. A control page
//! with one image by URL proves that such a request does reach the proxy.
//!
//! Without Chromium the test prints a skip line and passes, unless `DESKMOVE_REQUIRE_CHROMIUM=1`
//! (set by CI) makes that a failure. `DESKMOVE_CHROMIUM` names the binary to use.

use std::collections::HashSet;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deskmove_core::Target;
use deskmove_report::{Phase, Report, write};

use crate::support::Fixture;

/// How long one Chromium invocation may take before the test gives up on it (not an
/// assertion about speed: a hung browser must not hang CI).
const BROWSER_DEADLINE: Duration = Duration::from_secs(180);

/// Hosts headless Chromium contacts on its own at start-up (time sync, component updates,
/// Google sign-in), whatever page it opens.
const BROWSER_OWN_HOSTS: [&str; 3] = [
    "accounts.google.com",
    "update.googleapis.com",
    "clients2.google.com",
];

/// The host the control page's image points at.
const PROBE_HOST: &str = "probe.deskmove.test";

/// The host a proxy request line asks for: `CONNECT host:443 ...` or `GET http://host/... ...`.
fn requested_host(line: &str) -> String {
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let target = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .unwrap_or(target);
    let authority = target.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .to_owned()
}

/// The page's width and height in the screenshot: tall enough for the whole report.
const WINDOW: (u32, u32) = (1000, 4000);

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DESKMOVE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Whether this process runs as root (Chromium's sandbox refuses to start as root).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// A TCP listener standing in for a proxy: it accepts, notes the request's first line, and
/// closes. Every network attempt of the browser ends here.
struct CountingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl CountingProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 512];
                let n = conn.read(&mut buf).unwrap_or(0);
                let first = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("(nothing sent)")
                    .to_owned();
                seen2.lock().unwrap().push(first);
            }
        });
        Self { port, seen, stop }
    }

    fn connections(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Request lines for hosts other than the browser's own.
    fn page_requests(&self) -> Vec<String> {
        self.connections()
            .into_iter()
            .filter(|line| !BROWSER_OWN_HOSTS.contains(&requested_host(line).as_str()))
            .collect()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so the thread ends.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Runs Chromium headless on `page` with `extra` arguments; returns its stdout.
fn chromium(bin: &Path, profile: &Path, proxy: u16, page: &Path, extra: &[String]) -> String {
    let mut cmd = Command::new(bin);
    cmd.arg("--headless")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=127.0.0.1:{proxy}"))
        // `<-loopback>` removes the implicit loopback bypass: even 127.0.0.1 goes to the proxy.
        .arg("--proxy-bypass-list=<-loopback>")
        .args([
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--hide-scrollbars",
            "--mute-audio",
            // The browser's own background traffic (time sync, component and safe-browsing
            // updates, sign-in, metrics), so the proxy sees only what the page asks for.
            "--disable-client-side-phishing-detection",
            "--disable-domain-reliability",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--safebrowsing-disable-auto-update",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater,SafeBrowsing",
        ])
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    if is_root() {
        cmd.arg("--no-sandbox");
    }
    cmd.args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "chromium failed ({status}):\n{err}");
    out
}

/// Distinct colours in the image, and how many pixels have exactly each of `wanted`.
fn colours(png_path: &Path, wanted: &[[u8; 3]]) -> (usize, Vec<usize>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    let mut distinct = HashSet::new();
    let mut hits = vec![0; wanted.len()];
    for px in buf[..info.buffer_size()].chunks_exact(step) {
        let rgb = [px[0], px[1], px[2]];
        distinct.insert(rgb);
        for (i, w) in wanted.iter().enumerate() {
            if *w == rgb {
                hits[i] += 1;
            }
        }
    }
    (distinct.len(), hits)
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// The `data-records` values of the throughput chart's points, in document order.
fn point_values(dom: &str) -> Vec<u64> {
    dom.split(r#"<circle class="point""#)
        .skip(1)
        .map(|rest| {
            let at = rest.find(r#"data-records=""#).unwrap() + r#"data-records=""#.len();
            let end = at + rest[at..].find('"').unwrap();
            rest[at..end].parse().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_html_report_renders_in_chromium_without_a_network_request() {
    let Some(bin) = find_chromium().filter(|p| p.exists()) else {
        if std::env::var("DESKMOVE_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!(
                "DESKMOVE_REQUIRE_CHROMIUM=1 but no chromium was found (install Debian's `chromium` package or set DESKMOVE_CHROMIUM)"
            );
        }
        println!(
            "SKIPPED the_html_report_renders_in_chromium_without_a_network_request: no chromium found on PATH or at DESKMOVE_CHROMIUM (apt-get install chromium)"
        );
        return;
    };
    let fx = Fixture::new();
    let target = fx.target();
    let (run, ..) = fx.run(&target).await;
    let report = Report::build(&fx.store, run, Some(&target.fidelity()))
        .await
        .unwrap();
    let (_, html) = write(&report, &fx.dir.path().join("report")).unwrap();
    let proxy = CountingProxy::start();
    let profile = fx.dir.path().join("chromium-profile");
    let shot = fx.dir.path().join("report.png");

    let dom = chromium(&bin, &profile, proxy.port, &html, &["--dump-dom".into()]);
    chromium(
        &bin,
        &profile,
        proxy.port,
        &html,
        &[format!("--screenshot={}", shot.display())],
    );
    assert_eq!(
        proxy.page_requests(),
        Vec::<String>::new(),
        "the page made network requests (all connections: {:?})",
        proxy.connections()
    );
    let page = std::fs::read_to_string(&html).unwrap();
    for host in BROWSER_OWN_HOSTS.iter().chain([&PROBE_HOST]) {
        assert!(!page.contains(host), "the page names {host}");
    }

    // Control: the same page with one image by URL does reach the proxy, so the check above
    // would have seen a request the report made.
    let control = fx.dir.path().join("control.html");
    std::fs::write(
        &control,
        page.replace(
            "</main>",
            &format!(r#"<img src="http://{PROBE_HOST}/pixel.png" alt=""></main>"#),
        ),
    )
    .unwrap();
    chromium(&bin, &profile, proxy.port, &control, &["--dump-dom".into()]);
    let probed = proxy.page_requests();
    assert!(
        probed.iter().any(|l| requested_host(l) == PROBE_HOST),
        "the control page's request did not reach the proxy: {probed:?}"
    );

    // For a person to look at: DESKMOVE_KEEP_REPORT=<dir> keeps the page and its screenshot.
    if let Some(keep) = std::env::var_os("DESKMOVE_KEEP_REPORT") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&html, keep.join("report.html")).unwrap();
        std::fs::copy(&shot, keep.join("report.png")).unwrap();
    }

    // The DOM as Chromium built it: the charts hold one element per data point, with the
    // report's values, and the planted markup stayed text.
    assert!(dom.contains(r#"<svg id="throughput""#), "{dom}");
    let want: Vec<u64> = report
        .throughput
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.records))
        .collect();
    assert!(!want.is_empty() && want.iter().sum::<u64>() > 0);
    assert_eq!(point_values(&dom), want);
    let bars = report.problems.len() + report.fidelity.as_ref().unwrap().gaps.len();
    assert!(bars > 0);
    assert_eq!(dom.matches(r#"<rect class="bar""#).count(), bars);
    assert!(!dom.to_ascii_lowercase().contains("<script"));
    assert!(dom.contains("pwned"), "the planted reason is shown");

    // The screenshot: not blank, and the chart colours (used nowhere but the charts) drawn.
    let phases: Vec<Phase> = report.throughput.series.iter().map(|s| s.phase).collect();
    assert_eq!(phases, [Phase::Extract, Phase::Load]);
    let (distinct, hits) = colours(&shot, &[rgb("#3b6ea5"), rgb("#3c8d5a"), rgb("#c0392b")]);
    assert!(distinct > 32, "only {distinct} colours: a blank page?");
    assert!(
        hits[0] > 20,
        "extract chart colour drawn in {} pixels",
        hits[0]
    );
    assert!(
        hits[1] > 20,
        "load chart colour drawn in {} pixels",
        hits[1]
    );
    assert!(
        hits[2] > 20,
        "lost-fidelity bar drawn in {} pixels",
        hits[2]
    );
}
