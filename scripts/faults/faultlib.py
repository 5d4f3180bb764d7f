"""Shared pieces of the fault scripts: a private PostgreSQL cluster, the service process, an HTTP
client that never hides a failure, and the report every script prints.

Python 3.11 standard library only. Everything a script starts is stopped by `cleanup()`, which
runs at exit, on an exception and on SIGINT/SIGTERM/SIGHUP.
"""

import atexit
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("TALENTCARD_BIN", os.path.join(ROOT, "target", "release", "talentcard"))

# Demo logins (config/demo.toml, public).
AGENCY_ID = "01936c2e-0000-7000-8000-0000000000c1"
AGENCY_SECRET = "cs_demo-tongzhou-hospital-client-secret-2026"
OFFICIAL_XA = ("official.xa@demo.talentcard.cn", "demo-official-xiongan-2026",
               "MRSW23ZNPBQS233GMZUWG2LBNQWXGZLF")
TALENT = ("li.ming@demo.talentcard.cn", "demo-talent-li-ming-2026")

_cleanups = []
_cleaned = threading.Lock()


def on_cleanup(fn):
    """Runs `fn` at exit, newest first."""
    _cleanups.append(fn)


def cleanup():
    if not _cleaned.acquire(blocking=False):
        return
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # a cleanup step failing must not skip the others
            print(f"cleanup: {e}", file=sys.stderr)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


atexit.register(cleanup)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def raise_nofile(limit=16384):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(limit, hard) if hard != resource.RLIM_INFINITY else limit
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def build():
    """Builds the release binary unless NO_BUILD=1 (run-all builds once for all scripts)."""
    if os.environ.get("NO_BUILD") == "1" and os.path.exists(BIN):
        return
    log("cargo build --release (the target directory is shared: waiting on its lock is normal)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin():
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    versions = sorted((d for d in os.listdir("/usr/lib/postgresql")
                       if os.path.exists(f"/usr/lib/postgresql/{d}/bin/initdb")), key=int)
    if not versions:
        sys.exit("no PostgreSQL server binaries under /usr/lib/postgresql (set PG_BIN)")
    return f"/usr/lib/postgresql/{versions[-1]}/bin"


class Cluster:
    """A PostgreSQL cluster of our own (initdb into a temporary directory, its own port and
    socket directory, trust authentication), never the shared server on 5432."""

    def __init__(self, name="faults"):
        self.bin = pg_bin()
        self.dir = tempfile.mkdtemp(prefix=f"talentcard-{name}-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        on_cleanup(self.teardown)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()
        self.database = f"talentcard_{name.replace('-', '_')}"

    def _run(self, program, *args, check=True):
        command = [os.path.join(self.bin, program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} {args}: {result.stderr.strip()}")
        return result

    def start(self):
        # fsync=off: a stop, even -m immediate, loses no data the kernel already has; this
        # tests the service, not the disk.
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c max_connections=200")
        self._run("pg_ctl", "start", "-w", "-D", self.data, "-o", options,
                  "-l", os.path.join(self.dir, "server.log"))

    def stop(self, mode):
        self._run("pg_ctl", "stop", "-w", "-D", self.data, "-m", mode)

    def teardown(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "stop", "-w", "-D", self.data, "-m", "immediate", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database=None):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database or self.database}"

    def psql(self, sql, database=None):
        """Runs SQL (several statements allowed, psql meta-commands too); rows as lists."""
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database or self.database, "-XqtA", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
            input=sql, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def scalar(self, sql):
        rows = self.psql(sql)
        return rows[-1][0] if rows else None


def service_env(cluster, extra=None):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": cluster.url(),
        "TALENTCARD_ENV": "local",
        "RUST_LOG": os.environ.get("FAULTS_RUST_LOG", "warn"),
        "TALENTCARD__LOG__FORMAT": "json",
        # Each service's /metrics on a free port of its own, so several can run side by side.
        "TALENTCARD__METRICS__PORT": "0",
    })
    env.update(extra or {})
    return env


def cli(cluster, *args, extra=None, check=True):
    """Runs a `talentcard` subcommand against the cluster's database."""
    result = subprocess.run([BIN, *args], cwd=ROOT, env=service_env(cluster, extra),
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"talentcard {' '.join(args)}: {result.stdout}{result.stderr}")
    return result


class Server:
    """`talentcard serve` on its own port, its log in the cluster's directory."""

    def __init__(self, cluster, extra_env=None, demo=True, nofile=None, name="server"):
        self.cluster = cluster
        self.port = free_port()
        self.env = service_env(cluster, extra_env)
        self.demo = demo
        self.nofile = nofile
        self.log_path = os.path.join(cluster.dir, f"{name}.log")
        self.proc = None
        self.starts = 0
        on_cleanup(self.stop)

    def start(self, timeout=120):
        args = [BIN, "serve", "--bind", f"127.0.0.1:{self.port}"] + (["--demo"] if self.demo else [])
        nofile = self.nofile

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        logfile = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=logfile,
                                     stderr=subprocess.STDOUT, preexec_fn=limits)
        logfile.close()
        self.starts += 1
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + open(self.log_path).read()[-3000:])
            status, _, _, _ = request(self.port, "GET", "/readyz", timeout=2, fresh=True)
            if status == 200:
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError("the service did not become ready")

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_lines(self, needle):
        """Lines of the service log containing `needle`."""
        try:
            with open(self.log_path, errors="replace") as f:
                return [line for line in f if needle in line]
        except FileNotFoundError:
            return []


_local = threading.local()
KEEP_ALIVE_REUSE_SECS = 3.0


def request(port, method, path, body=None, token=None, headers=None, form=False, timeout=10.0,
            fresh=False):
    """One HTTP request on this thread's keep-alive connection.

    Returns (status or None, parsed body or None, seconds, error text or None). A status of None
    means no answer: connection refused or reset, or no answer within `timeout` (error
    'timeout'); the caller decides what that means.
    """
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
    conns = _local.__dict__.setdefault("conns", {})
    conn = None if fresh else conns.get((port, timeout))
    if conn is not None and time.monotonic() - conn.last_used > KEEP_ALIVE_REUSE_SECS:
        # The server closes an idle keep-alive connection after 5 s; writing on it then fails
        # on the client's side, which is not a failure of the server.
        conn.close()
        conn = None
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        if not fresh:
            conns[(port, timeout)] = conn
    started = time.monotonic()
    conn.last_used = started
    try:
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        elapsed = time.monotonic() - started
        conn.last_used = time.monotonic()
        if fresh or response.will_close:
            conn.close()
            conns.pop((port, timeout), None)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, elapsed, None
    except (socket.timeout, TimeoutError):
        error = "timeout"
    except (OSError, http.client.HTTPException) as e:
        error = type(e).__name__
    conn.close()
    conns.pop((port, timeout), None)
    return None, None, time.monotonic() - started, error


def agency_token(port):
    status, body, _, error = request(port, "POST", "/api/v1/auth/token", {
        "grant_type": "client_credentials", "client_id": AGENCY_ID,
        "client_secret": AGENCY_SECRET}, form=True)
    if status != 200:
        raise RuntimeError(f"agency token: {status} {error} {body}")
    return body["access_token"]


def totp(secret):
    return subprocess.run([BIN, "totp", "--secret", secret], capture_output=True, text=True,
                          check=True).stdout.strip()


def official_token(port, account=OFFICIAL_XA):
    email, password, secret = account
    status, body, _, error = request(port, "POST", "/api/v1/auth/login",
                                     {"email": email, "password": password, "totp": totp(secret)})
    if status != 200:
        raise RuntimeError(f"official login: {status} {error} {body}")
    return body["access_token"]


def talent_token(port, account=TALENT):
    email, password = account
    status, body, _, error = request(port, "POST", "/api/v1/auth/login",
                                     {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"talent login: {status} {error} {body}")
    return body["access_token"]


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


class Report:
    """Figures and checks; printed at the end, written as JSON to $FAULTS_REPORT for run-all."""

    def __init__(self, name):
        self.name = name
        self.figures = {}
        self.checks = []
        self.started = time.time()

    def figure(self, key, value):
        self.figures[key] = value

    def check(self, name, ok, detail=""):
        self.checks.append({"check": name, "ok": bool(ok), "detail": str(detail)})
        log(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + str(detail) if detail else ''}")
        return ok

    def passed(self):
        return bool(self.checks) and all(c["ok"] for c in self.checks)

    def finish(self):
        print(f"\n== {self.name}: figures")
        for key, value in self.figures.items():
            print(f"  {key:38} {value}")
        failed = [c for c in self.checks if not c["ok"]]
        print(f"== {self.name}: {len(self.checks) - len(failed)}/{len(self.checks)} checks passed"
              + ("" if not failed else "; FAILED: " + "; ".join(c["check"] for c in failed)))
        out = os.environ.get("FAULTS_REPORT")
        if out:
            with open(out, "w") as f:
                json.dump({"script": self.name, "passed": self.passed(),
                           "seconds": round(time.time() - self.started, 1),
                           "figures": self.figures, "checks": self.checks}, f, indent=1)
        return 0 if self.passed() else 1
