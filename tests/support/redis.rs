//! A real `redis-server` for tests: started on a free loopback port in a temp dir, with no
//! persistence, killed (and its dir removed) on drop.
//!
//! When `redis-server` is missing the tests say loudly on the real stderr that they did not
//! run (so the README's test command passes on a machine with only the Rust toolchain); with
//! `LEDGIX_REQUIRE_SYSTEM_DEPS=1` (what `.ci/run` sets, after installing it) they fail instead.
//! `LEDGIX_SKIP_REDIS_TESTS=1` skips on purpose either way.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

/// Where `redis-server` is: `REDIS_SERVER`, else the `PATH`.
fn program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REDIS_SERVER") {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("redis-server"))
            .find(|p| p.is_file())
    })
}

/// Says on the real stderr (past the test harness's capture) that `test` was skipped.
pub fn say_skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: {why}. Install redis-server (.ci/run does) to run it; \
         LEDGIX_REQUIRE_SYSTEM_DEPS=1 makes this a failure ***\n"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

impl RedisServer {
    /// Starts a `redis-server`, or `None` when it is missing (said loudly on stderr).
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing under `LEDGIX_REQUIRE_SYSTEM_DEPS=1` (and
    /// `LEDGIX_SKIP_REDIS_TESTS` is not `1`), or does not start.
    pub fn start(test: &str) -> Option<RedisServer> {
        let Some(program) = program() else {
            let why = "redis-server was not found on the PATH (nor at $REDIS_SERVER)";
            let skip = std::env::var("LEDGIX_SKIP_REDIS_TESTS").as_deref() == Ok("1");
            let required = std::env::var("LEDGIX_REQUIRE_SYSTEM_DEPS").as_deref() == Ok("1");
            if skip || !required {
                say_skipped(test, why);
                return None;
            }
            let _ = writeln!(
                std::io::stderr(),
                "\n*** {test}: {why}: the Redis replay store tests need a real Redis ***\n"
            );
            panic!(
                "{why}. Install it (`apt-get install -y redis-server`, as .ci/run does), point \
                 REDIS_SERVER at it, or unset LEDGIX_REQUIRE_SYSTEM_DEPS"
            );
        };
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ledgix-redis-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir for redis-server");
        // A free port can be taken between the probe and the bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut server = RedisServer {
                child: None,
                dir: dir.clone(),
                port,
            };
            server.child = Some(server.spawn(&program));
            if server.wait_ready(Duration::from_secs(10)) {
                return Some(server);
            }
            server.kill();
        }
        panic!("redis-server did not start (5 tries)");
    }

    fn spawn(&self, program: &PathBuf) -> Child {
        Command::new(program)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--protected-mode", "yes"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
    }

    /// True once it answers PING with PONG.
    fn wait_ready(&mut self, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                return false; // exited: the port was taken
            }
            if self.ping() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// PING over a raw socket.
    pub fn ping(&self) -> bool {
        let Ok(mut socket) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = socket.set_read_timeout(Some(Duration::from_secs(1)));
        if socket.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut answer = [0u8; 7];
        socket.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts it again on the same port (after [`kill`](Self::kill)): empty, as a Redis
    /// without persistence comes back.
    ///
    /// # Panics
    ///
    /// When it does not answer within 10 s.
    pub fn restart(&mut self) {
        self.kill();
        let program = program().expect("redis-server was found before");
        self.child = Some(self.spawn(&program));
        assert!(
            self.wait_ready(Duration::from_secs(10)),
            "redis-server did not restart on port {}",
            self.port
        );
    }

    /// Freezes it (SIGSTOP): connections stay open, nothing is answered.
    #[cfg(unix)]
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    #[cfg(unix)]
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    #[cfg(unix)]
    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([which, &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {which} {pid}");
    }

    /// Kills it (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
