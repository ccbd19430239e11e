//! Processes started together and stopped together.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The processes one tool started, each writing to `<log_dir>/<name>.log`. Dropping the supervisor
/// stops them all, last started first: SIGTERM, then SIGKILL for any still running after ten
/// seconds.
#[derive(Debug)]
pub struct Supervisor {
    log_dir: PathBuf,
    children: Vec<(String, Child)>,
}

/// A process that did not come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady(pub String);

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotReady {}

impl Supervisor {
    /// A supervisor whose processes log to files in `log_dir` (created if missing).
    pub fn new(log_dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let log_dir = log_dir.into();
        std::fs::create_dir_all(&log_dir)?;
        Ok(Self {
            log_dir,
            children: Vec::new(),
        })
    }

    /// Where the logs are.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Starts `command` as `name`, its output going to `<name>.log`.
    pub fn spawn(&mut self, name: &str, command: &mut Command) -> std::io::Result<u32> {
        let log = std::fs::File::create(self.log_dir.join(format!("{name}.log")))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()?;
        let pid = child.id();
        self.children.push((name.to_owned(), child));
        Ok(pid)
    }

    /// The name of a process that has exited, if any.
    pub fn exited(&mut self) -> Option<String> {
        self.children
            .iter_mut()
            .find_map(|(name, child)| child.try_wait().ok().flatten().map(|_| name.clone()))
    }

    /// Each process's name and id, in start order.
    pub fn pids(&self) -> Vec<(&str, u32)> {
        self.children
            .iter()
            .map(|(name, child)| (name.as_str(), child.id()))
            .collect()
    }

    /// Waits until `http://127.0.0.1:<port><path>` answers 200, failing with the tail of `name`'s
    /// log if the process exits first or `timeout` passes.
    pub fn wait_ready(
        &mut self,
        name: &str,
        port: u16,
        path: &str,
        timeout: Duration,
    ) -> Result<(), NotReady> {
        let deadline = Instant::now() + timeout;
        loop {
            if answers_ok(port, path) {
                return Ok(());
            }
            if self.exited().as_deref() == Some(name) {
                return Err(NotReady(format!(
                    "{name} exited while starting; log tail:\n{}",
                    self.log_tail(name)
                )));
            }
            if Instant::now() > deadline {
                return Err(NotReady(format!(
                    "{name} was not ready on port {port} within {timeout:?}; log tail:\n{}",
                    self.log_tail(name)
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `name` with the command `make` gives (with the port it serves `path` on) and waits
    /// until it is ready, up to three times while it exits because its address was taken: a port
    /// found free can be taken by another process before the child binds it, so each attempt asks
    /// `make` for a fresh one. Returns the port it listens on.
    pub fn start_ready(
        &mut self,
        name: &str,
        path: &str,
        timeout: Duration,
        mut make: impl FnMut() -> (Command, u16),
    ) -> Result<u16, NotReady> {
        let mut attempt = 1;
        loop {
            let (mut command, port) = make();
            self.spawn(name, &mut command)
                .map_err(|e| NotReady(format!("starting {name}: {e}")))?;
            match self.wait_ready(name, port, path, timeout) {
                Ok(()) => return Ok(port),
                Err(NotReady(why)) if attempt < 3 && why.contains("Address already in use") => {
                    // The exited attempt is forgotten, so the next one is watched on its own.
                    self.children.retain_mut(|(n, child)| {
                        n != name || child.try_wait().ok().flatten().is_none()
                    });
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The last 30 lines of `name`'s log.
    pub fn log_tail(&self, name: &str) -> String {
        let log =
            std::fs::read_to_string(self.log_dir.join(format!("{name}.log"))).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// Whether a GET of `path` on 127.0.0.1:`port` answers 200 (plain HTTP/1.1, no client library:
/// readiness is all this asks).
fn answers_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for (_, child) in self.children.iter().rev() {
            // SIGTERM lets a subgraph drain its requests and the router shut down cleanly.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, child) in self.children.iter_mut().rev() {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if child.try_wait().ok().flatten().is_none() {
                eprintln!("{name} did not stop in time; killing it");
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_stop_when_the_supervisor_goes() {
        let dir = std::env::temp_dir().join(format!("cityos-supervisor-{}", std::process::id()));
        let mut supervisor = Supervisor::new(&dir).expect("supervisor");
        let pid = supervisor
            .spawn("sleeper", Command::new("sleep").arg("60"))
            .expect("spawn");
        assert_eq!(supervisor.exited(), None);
        let error = supervisor
            .wait_ready("sleeper", 1, "/ready", Duration::from_millis(300))
            .unwrap_err();
        assert!(error.0.contains("was not ready"), "{error}");
        drop(supervisor);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "sleep {pid} still runs"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
