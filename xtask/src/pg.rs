//! An embedded PostgreSQL server started from the machine's own binaries (`initdb`, `pg_ctl`).
//!
//! PostgreSQL refuses to run as root, so when xtask runs as root the server runs as the `postgres`
//! system user (through `runuser`), and its data directory is handed to that user.

use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running (or startable) server.
pub struct Postgres {
    data_dir: PathBuf,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    bin_dir: Option<PathBuf>,
    as_postgres_user: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The directory of `pg_ctl`: `PG_BIN_DIR`, else the newest /usr/lib/postgresql/*/bin, else PATH.
fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    candidates.pop()
}

impl Postgres {
    /// A server whose data lives in `data_dir`, on `port`.
    pub fn new(data_dir: PathBuf, port: u16) -> Self {
        Self {
            data_dir,
            port,
            bin_dir: find_bin_dir(),
            as_postgres_user: is_root(),
        }
    }

    fn command(&self, program: &str) -> Command {
        let program = self
            .bin_dir
            .as_ref()
            .map_or_else(|| PathBuf::from(program), |d| d.join(program));
        if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// The owner URL of `database`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn initialized(&self) -> bool {
        self.data_dir.join("PG_VERSION").exists()
    }

    /// Creates the cluster if missing and starts the server. `throwaway` trades durability for
    /// speed (test clusters).
    pub fn start(&self, throwaway: bool) -> Result<()> {
        if !self.initialized() {
            std::fs::create_dir_all(&self.data_dir)?;
            self.hand_over(&self.data_dir)?;
            let mut initdb = self.command("initdb");
            initdb.arg("-D").arg(&self.data_dir).args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
            ]);
            if throwaway {
                initdb.arg("--no-sync");
            }
            run(initdb.stdout(std::process::Stdio::null()))?;
        }
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=300 \
             -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on",
            self.port,
            self.data_dir.display()
        );
        if throwaway {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.data_dir.join("server.log");
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(pg_ctl.stdout(std::process::Stdio::null()))
            .map_err(|e| format!("{e}; see {}", log.display()))?;
        Ok(())
    }

    /// Whether the server of this data directory is running.
    pub fn running(&self) -> bool {
        self.initialized()
            && self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.data_dir)
                .arg("status")
                .output()
                .is_ok_and(|o| o.status.success())
    }

    /// Stops the server (fast shutdown: open transactions are rolled back).
    pub fn stop(&self) {
        if self.running() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "stop"])
                .stdout(std::process::Stdio::null())
                .status();
        }
    }

    /// Creates `database` unless it exists.
    pub fn ensure_database(&self, database: &str) -> Result<()> {
        let out = self
            .command("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-tAc",
            ])
            .arg(format!(
                "SELECT 1 FROM pg_database WHERE datname = '{database}'"
            ))
            .output()?;
        if String::from_utf8_lossy(&out.stdout).trim() != "1" {
            run(self.command("createdb").args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                database,
            ]))?;
        }
        Ok(())
    }

    /// Gives `dir` (and makes its parents passable) to the `postgres` user when running as root.
    fn hand_over(&self, dir: &Path) -> Result<()> {
        if self.as_postgres_user {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir))?;
            run(Command::new("chmod").arg("700").arg(dir))?;
            let mut parent = dir.parent();
            while let Some(p) = parent {
                if p.as_os_str().is_empty() || p == Path::new("/") {
                    break;
                }
                // o+x only: lets the server reach its directory without listing anything.
                let _ = Command::new("chmod").arg("o+x").arg(p).status();
                parent = p.parent();
            }
        }
        Ok(())
    }
}
