//! PostgreSQL going away and coming back, on a private throwaway cluster so the shared server
//! the other tests use is never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::helpers::{TestApp, TestDatabase, problem, start, test_settings};

/// A PostgreSQL cluster of our own: initdb into a temporary directory, its own port and socket.
struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn postgres_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (or set PG_BIN)")
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb binary")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateCluster {
    fn start() -> PrivateCluster {
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().unwrap();
        let cluster = PrivateCluster {
            dir,
            bin: postgres_bin(),
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            // initdb refuses to run as root; the cluster belongs to the postgres user.
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(cluster.dir.path())
                .status();
            assert!(chown.unwrap().success());
        }
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        cluster.pg_ctl_start();
        cluster
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command.args(args).output().expect("run a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let socket_dir = self.dir.path().to_string_lossy().into_owned();
        let options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        let log = Path::new(&socket_dir)
            .join("server.log")
            .to_string_lossy()
            .into_owned();
        self.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log,
            ],
        );
    }

    fn pg_ctl_stop(&self, mode: &str) {
        self.run(
            "pg_ctl",
            &["stop", "-w", "-D", &self.data_dir(), "-m", mode],
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = std::panic::catch_unwind(|| {
            let _ = Command::new(self.bin.join("pg_ctl"))
                .args(["stop", "-D", &data, "-m", "immediate"])
                .output();
        });
        if self.as_postgres {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["stop", "-D", &data, "-m", "immediate"])
                .output();
        }
    }
}

async fn statuses(app: &TestApp) -> (u16, u16) {
    let ready = app.get("/readyz").await.status().as_u16();
    let data = app.get("/api/v1/districts").await.status().as_u16();
    (ready, data)
}

/// Polls until both the readiness probe and a database-backed request answer `want`.
async fn wait_for(app: &TestApp, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if statuses(app).await == (want, want) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "no {want} within {within:?}: {:?}",
            statuses(app).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_stopped_database_gives_503_and_recovery_needs_no_restart() {
    let cluster = PrivateCluster::start();
    let mut settings = test_settings();
    settings.database.url = SecretString::from(cluster.url("talentcard"));
    // The database does not exist yet: building the app must create it.
    let app = start(settings, TestDatabase::external(cluster.url("talentcard"))).await;
    wait_for(&app, 200, Duration::from_secs(5)).await;

    for mode in ["immediate", "fast"] {
        cluster.pg_ctl_stop(mode);
        let down = wait_for(&app, 503, Duration::from_secs(10)).await;
        problem(app.get("/readyz").await, 503, "service_unavailable").await;
        problem(
            app.get("/api/v1/districts").await,
            503,
            "service_unavailable",
        )
        .await;

        cluster.pg_ctl_start();
        let up = wait_for(&app, 200, Duration::from_secs(10)).await;
        eprintln!("stop -m {mode}: 503 after {down:?}; 200 again {up:?} after restart");
    }
}
