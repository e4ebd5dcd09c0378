//! A real headless Chromium for tests, driven through ChromeDriver's W3C WebDriver endpoints
//! (plain HTTP + JSON, with the reqwest the tests already use: no WebDriver crate needed for
//! the handful of commands a page test makes).
//!
//! Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`;
//! `CHROMIUM` / `CHROMEDRIVER` override the paths). Without them a test fails loudly, unless
//! `LEDGIX_SKIP_BROWSER_TESTS=1` says to skip it (and it says so on stderr).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The switches a root user's headless Chromium needs on a closed network.
const CHROMIUM_ARGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1360,1200",
];

/// What to run, or why not.
pub enum Availability {
    /// Both programs were found.
    Found { chromium: PathBuf, driver: PathBuf },
    /// Missing (and not required), or `LEDGIX_SKIP_BROWSER_TESTS=1` says to skip.
    Skip(String),
}

fn find(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    path.is_file().then_some(path)
}

/// Finds Chromium and ChromeDriver.
///
/// # Panics
///
/// When either is missing, `LEDGIX_REQUIRE_SYSTEM_DEPS=1` (CI) and `LEDGIX_SKIP_BROWSER_TESTS`
/// is not `1`: where the browser is promised, a browser test must not pass without one. On a
/// machine with only the Rust toolchain the README's test command still passes, and the skip
/// is said on the real stderr.
pub fn availability() -> Availability {
    let chromium = find("CHROMIUM", "/usr/bin/chromium");
    let driver = find("CHROMEDRIVER", "/usr/bin/chromedriver");
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Availability::Found { chromium, driver },
        (chromium, driver) => {
            let missing = format!(
                "no headless browser: chromium {}, chromedriver {}",
                if chromium.is_some() {
                    "found"
                } else {
                    "missing"
                },
                if driver.is_some() { "found" } else { "missing" },
            );
            let skip = std::env::var("LEDGIX_SKIP_BROWSER_TESTS").as_deref() == Ok("1");
            let required = std::env::var("LEDGIX_REQUIRE_SYSTEM_DEPS").as_deref() == Ok("1");
            if skip || !required {
                Availability::Skip(missing)
            } else {
                panic!(
                    "{missing}. Install them (`apt-get install chromium chromium-driver`, as \
                     .ci/run does), point CHROMIUM / CHROMEDRIVER at them, or set \
                     LEDGIX_SKIP_BROWSER_TESTS=1 to skip the browser tests on purpose"
                );
            }
        }
    }
}

/// Says on the real stderr (past the test harness's capture, which takes only `eprintln!`)
/// that `test` was skipped on purpose, and why.
pub fn say_skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: {why}. Install chromium and chromium-driver (.ci/run does) to \
         run it; LEDGIX_REQUIRE_SYSTEM_DEPS=1 makes this a failure ***\n"
    );
}

/// A running ChromeDriver with one Chromium session; both end when this is dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    base: String,
    driver: Child,
    profile: PathBuf,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

impl Browser {
    /// Starts ChromeDriver on a free loopback port and opens a headless Chromium session.
    pub async fn start(chromium: &PathBuf, driver: &PathBuf) -> Browser {
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let profile =
            std::env::temp_dir().join(format!("ledgix-chromium-{}-{}", std::process::id(), port));
        let mut browser = Browser {
            http,
            session: String::new(),
            base,
            driver,
            profile,
        };
        browser.wait_ready().await;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.display()));
        let answer = browser
            .call(
                reqwest::Method::POST,
                "/session",
                Some(json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": chromium, "args": args},
                }}})),
            )
            .await;
        browser.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {answer}"))
            .to_string();
        browser
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(answer) = self.http.get(format!("{}/status", self.base)).send().await
                && let Ok(body) = answer.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One WebDriver command; its `value`. Panics on a WebDriver error.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = answer.status();
        let body: Value = answer
            .json()
            .await
            .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"));
        assert!(status.is_success(), "{url}: HTTP {status}: {body}");
        body["value"].clone()
    }

    async fn session_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).await
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.session_call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The elements matching a CSS selector now (possibly none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let value = self
            .session_call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits (up to 15 s) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                return element;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no element matches `{css}` after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The rendered text of an element.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        let value = self.session_call(reqwest::Method::GET, &path, None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// Clicks an element.
    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.session_call(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Types `text` into an element.
    pub async fn type_into(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.session_call(reqwest::Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub async fn execute(&self, script: &str) -> Value {
        self.session_call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let value = self
            .session_call(reqwest::Method::GET, "/screenshot", None)
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .expect("a base64 PNG")
    }

    /// Ends the session (Chromium exits) and stops ChromeDriver.
    pub async fn quit(mut self) {
        let path = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(path).send().await;
        self.session.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A session not quit (a failed assertion) is ended here, synchronously, so Chromium
        // exits before ChromeDriver (the process this test started) is killed.
        if !self.session.is_empty() {
            delete_session_blocking(&self.base, &self.session);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}` without an async runtime (from `Drop`).
fn delete_session_blocking(base: &str, session: &str) {
    use std::io::{Read, Write};
    let Some(addr) = base.strip_prefix("http://") else {
        return;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request =
        format!("DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}
