//! A shell session like a user's terminal: one bash process that runs
//! commands one at a time, so variables set or exported by one command are
//! there for the next, and servers started in the background keep running
//! until they are stopped.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long one command may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a server may take to answer `GET /healthz`.
const SERVER_TIMEOUT: Duration = Duration::from_secs(60);

/// What a command did.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A background command serving HTTP on 127.0.0.1.
pub struct Server {
    /// Its process group (job control puts each background job in its own).
    pgid: u32,
    pub port: u16,
}

pub struct Session {
    bash: Child,
    script: ChildStdin,
    /// Lines bash prints between commands: `rc <status>` or `pid <pid>`.
    control: Receiver<String>,
    logs: PathBuf,
    count: usize,
    servers: Vec<Server>,
}

impl Session {
    /// Bash in `work` with exactly `env` (nothing inherited from the test).
    pub fn start(work: &Path, logs: &Path, env: &[(String, String)]) -> Session {
        fs::create_dir_all(logs).unwrap();
        // Bash's own messages (job notices) go to a log, not the test's output.
        let bash_log = fs::File::create(logs.join("bash.err")).unwrap();
        let mut bash = Command::new("bash")
            .args(["--noprofile", "--norc", "-s"])
            .current_dir(work)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(bash_log)
            .spawn()
            .expect("bash starts");
        let script = bash.stdin.take().unwrap();
        let stdout = BufReader::new(bash.stdout.take().unwrap());
        let (send, control) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let mut session = Session { bash, script, control, logs: logs.to_path_buf(), count: 0, servers: Vec::new() };
        // Job control: a background job gets its own process group, which
        // `stop_servers` ends as a whole (wasmtime and any shell around it).
        session.send("set -m\n");
        session
    }

    /// Runs one command to its end; its stdin is empty unless it redirects it.
    pub fn run(&mut self, command: &str) -> Ran {
        check_syntax(command);
        let (out, err) = self.next_logs();
        self.send(&format!("{{\n{command}\n}} >{} 2>{} </dev/null\necho \"rc $?\"\n", quote(&out), quote(&err)));
        let code = self.reply("rc", command).parse().expect("an exit status");
        Ran { code, stdout: read(&out), stderr: read(&err) }
    }

    /// Starts a command that serves HTTP on `port` in the background and
    /// waits until it answers `GET /healthz` with 200.
    pub fn start_server(&mut self, command: &str, port: u16) {
        check_syntax(command);
        let (out, err) = self.next_logs();
        self.send(&format!("{{\n{command}\n}} >{} 2>{} </dev/null &\necho \"pid $!\"\n", quote(&out), quote(&err)));
        let pgid = self.reply("pid", command).parse().expect("a process ID");
        self.servers.push(Server { pgid, port });
        let started = Instant::now();
        while health(port) != Some(200) {
            let alive = signal("-0", pgid);
            if !alive || started.elapsed() > SERVER_TIMEOUT {
                let what = if alive {
                    format!("did not answer GET /healthz on 127.0.0.1:{port} within {SERVER_TIMEOUT:?}")
                } else {
                    "exited before answering GET /healthz".into()
                };
                panic!("{command}\n{what}; its stderr: {}", read(&err));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port of the newest running server.
    pub fn server_port(&self) -> Option<u16> {
        self.servers.last().map(|server| server.port)
    }

    /// Ends every background server (as Ctrl-C in its terminal would).
    pub fn stop_servers(&mut self) {
        for server in self.servers.drain(..) {
            stop(server.pgid);
        }
    }

    fn next_logs(&mut self) -> (PathBuf, PathBuf) {
        self.count += 1;
        (self.logs.join(format!("{}.out", self.count)), self.logs.join(format!("{}.err", self.count)))
    }

    fn send(&mut self, script: &str) {
        self.script.write_all(script.as_bytes()).and_then(|()| self.script.flush()).expect("bash reads commands");
    }

    /// The value of the next `<tag> <value>` line bash prints.
    fn reply(&self, tag: &str, command: &str) -> String {
        let line = self.control.recv_timeout(COMMAND_TIMEOUT).unwrap_or_else(|e| {
            let bash = read(&self.logs.join("bash.err"));
            panic!("no answer from bash within {COMMAND_TIMEOUT:?} ({e}) for:\n{command}\nbash said: {bash}")
        });
        match line.strip_prefix(tag).and_then(|rest| rest.strip_prefix(' ')) {
            Some(value) => value.to_string(),
            None => panic!("bash printed {line:?} instead of `{tag} …` after:\n{command}"),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop_servers();
        let _ = self.bash.kill();
        let _ = self.bash.wait();
    }
}

/// A command that does not parse (an unclosed quote, say) would swallow the
/// lines sent after it and hang the session: refuse it up front.
fn check_syntax(command: &str) {
    let parsed = Command::new("bash").args(["-n", "-c", command]).output().expect("bash runs");
    assert!(parsed.status.success(), "bash cannot parse:\n{command}\n{}", String::from_utf8_lossy(&parsed.stderr));
}

/// `kill <signal> -- -<pgid>`: whether the process group exists (`-0`) or was signalled.
fn signal(signal: &str, pgid: u32) -> bool {
    let status = Command::new("kill").args([signal, "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
    matches!(status, Ok(status) if status.success())
}

fn stop(pgid: u32) {
    signal("-TERM", pgid);
    let asked = Instant::now();
    while signal("-0", pgid) {
        if asked.elapsed() > Duration::from_secs(5) {
            signal("-KILL", pgid);
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status of `GET /healthz` on 127.0.0.1:`port`, if anything answers.
pub fn health(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = String::new();
    let _ = stream.take(64).read_to_string(&mut head);
    head.split_whitespace().nth(1)?.parse().ok()
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned()
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
