//! The local backend's instances: one `faultline serve` process per instance of the
//! topology, kept running as a ReplicaSet would keep its pods.
//!
//! - Each instance is started with its zone and listens on a loopback port chosen at its
//!   first start and kept across restarts, so its fault proxy's upstream never changes.
//!   It is ready once it prints `listening on ADDR`.
//! - A process that exits (killed by a fault or crashed) is started again
//!   [`RESTART_DELAY`] later. Exits the run did not ask for are recorded: the report lists
//!   them as violations of the `instances-stay-up` check.
//! - [`Supervisor::kill`] sends SIGKILL (pod-kill, container-kill), [`Supervisor::pause`]
//!   and [`Supervisor::resume`] SIGSTOP and SIGCONT (pod-failure).
//! - Nothing outlives the run: every instance runs with `--exit-with-stdin` and a pipe to
//!   this process on its stdin. When this process ends, however it ends (SIGKILL
//!   included), the kernel closes the pipe and the instance exits. [`Supervisor::shutdown`]
//!   kills them all at once.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::faults::RESTART_DELAY;
use crate::lock;
use crate::spec::experiment::InstanceSpec;

/// How long an instance may take to print `listening on`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How to start a server: the program and the arguments before `serve`'s own
/// (`faultline` itself: `current_exe()` and `["serve"]`).
#[derive(Debug, Clone)]
pub struct ServerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The service name every instance serves.
    pub service: String,
}

/// An instance's process exited without the run asking for it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnexpectedExit {
    pub instance: String,
    pub at: Instant,
    /// The exit status, as the OS gives it.
    pub status: String,
}

/// Why the instances could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot start {instance} ({program}): {source}")]
    Spawn {
        instance: String,
        program: String,
        source: io::Error,
    },
    #[error("{instance} did not print `listening on ADDR` within {READY_TIMEOUT:?}: {detail}")]
    NotReady { instance: String, detail: String },
}

/// The shared state of one instance.
#[derive(Debug, Default)]
struct Slot {
    pid: Option<u32>,
    /// The next exit was asked for (a kill).
    expect_exit: bool,
    paused: bool,
    starts: u32,
}

/// The instances' processes.
pub struct Supervisor {
    slots: BTreeMap<String, Arc<Mutex<Slot>>>,
    addrs: BTreeMap<String, SocketAddr>,
    exits: Arc<Mutex<Vec<UnexpectedExit>>>,
    stop: watch::Sender<bool>,
    tasks: Mutex<JoinSet<()>>,
}

impl Supervisor {
    /// Starts every instance and waits until each one listens.
    pub async fn start(
        command: &ServerCommand,
        instances: &[InstanceSpec],
    ) -> Result<Self, StartError> {
        let (stop, _) = watch::channel(false);
        let mut supervisor = Supervisor {
            slots: BTreeMap::new(),
            addrs: BTreeMap::new(),
            exits: Arc::default(),
            stop,
            tasks: Mutex::default(),
        };
        for instance in instances {
            let slot = Arc::new(Mutex::new(Slot::default()));
            let (child, addr) = match spawn(command, instance, "127.0.0.1:0", &slot).await {
                Ok(started) => started,
                Err(error) => {
                    supervisor.shutdown().await;
                    return Err(error);
                }
            };
            supervisor.addrs.insert(instance.name.clone(), addr);
            supervisor.slots.insert(instance.name.clone(), slot.clone());
            let keeper = Keeper {
                command: command.clone(),
                instance: instance.clone(),
                listen: addr.to_string(),
                slot,
                exits: supervisor.exits.clone(),
                stop: supervisor.stop.subscribe(),
            };
            lock(&supervisor.tasks).spawn(keeper.keep(child));
        }
        Ok(supervisor)
    }

    /// Where each instance listens, by name.
    pub fn addrs(&self) -> &BTreeMap<String, SocketAddr> {
        &self.addrs
    }

    /// SIGKILL to `instance`; it is started again [`RESTART_DELAY`] later.
    pub fn kill(&self, instance: &str) {
        self.signal(instance, Signal::SIGKILL, |slot| slot.expect_exit = true);
    }

    /// SIGSTOP to `instance`: it keeps its connections and answers nothing.
    pub fn pause(&self, instance: &str) {
        self.signal(instance, Signal::SIGSTOP, |slot| slot.paused = true);
    }

    /// SIGCONT to a paused `instance`.
    pub fn resume(&self, instance: &str) {
        self.signal(instance, Signal::SIGCONT, |slot| slot.paused = false);
    }

    /// SIGCONT to every paused instance (a rollback).
    pub fn resume_all(&self) {
        let paused: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, slot)| lock(slot).paused)
            .map(|(name, _)| name.clone())
            .collect();
        for name in paused {
            self.resume(&name);
        }
    }

    fn signal(&self, instance: &str, signal: Signal, mark: impl FnOnce(&mut Slot)) {
        let Some(slot) = self.slots.get(instance) else {
            return;
        };
        let mut slot = lock(slot);
        if let Some(pid) = slot.pid {
            mark(&mut slot);
            let pid = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
            // The process may have exited just now: then there is nothing to signal.
            let _ = kill(pid, signal);
        }
    }

    /// How many times each instance was started (1 when it never restarted).
    pub fn starts(&self) -> BTreeMap<String, u32> {
        self.slots
            .iter()
            .map(|(name, slot)| (name.clone(), lock(slot).starts))
            .collect()
    }

    /// Each instance's process id now (`None` while it is down).
    pub fn pids(&self) -> BTreeMap<String, Option<u32>> {
        self.slots
            .iter()
            .map(|(name, slot)| (name.clone(), lock(slot).pid))
            .collect()
    }

    /// The exits the run did not ask for, so far.
    pub fn unexpected_exits(&self) -> Vec<UnexpectedExit> {
        lock(&self.exits).clone()
    }

    /// Kills every instance (paused ones included) and waits until they are gone.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        for instance in self.slots.keys() {
            self.kill(instance);
        }
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        while tasks.join_next().await.is_some() {}
    }
}

/// Keeps one instance running until the supervisor stops.
struct Keeper {
    command: ServerCommand,
    instance: InstanceSpec,
    listen: String,
    slot: Arc<Mutex<Slot>>,
    exits: Arc<Mutex<Vec<UnexpectedExit>>>,
    stop: watch::Receiver<bool>,
}

impl Keeper {
    async fn keep(mut self, mut child: Child) {
        loop {
            // `Child::wait` closes the child's stdin, which would end the instance
            // (`--exit-with-stdin`): the pipe is held here while it runs.
            let _stdin = child.stdin.take();
            let status = tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => {
                    let _ = child.kill().await;
                    return;
                }
                status = child.wait() => status,
            };
            let expected = {
                let mut slot = lock(&self.slot);
                slot.pid = None;
                slot.paused = false;
                std::mem::take(&mut slot.expect_exit)
            };
            if !expected {
                lock(&self.exits).push(UnexpectedExit {
                    instance: self.instance.name.clone(),
                    at: Instant::now(),
                    status: status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                });
            }
            tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => return,
                () = tokio::time::sleep(RESTART_DELAY) => {}
            }
            child = loop {
                match spawn(&self.command, &self.instance, &self.listen, &self.slot).await {
                    Ok((child, _)) => break child,
                    Err(error) => {
                        lock(&self.exits).push(UnexpectedExit {
                            instance: self.instance.name.clone(),
                            at: Instant::now(),
                            status: format!("could not restart: {error}"),
                        });
                        tokio::select! {
                            biased;
                            _ = stopped(&mut self.stop) => return,
                            () = tokio::time::sleep(RESTART_DELAY) => {}
                        }
                    }
                }
            };
        }
    }
}

/// Resolves once the supervisor stops (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await.is_ok();
}

/// Starts `instance` listening on `listen` and waits until it does.
async fn spawn(
    command: &ServerCommand,
    instance: &InstanceSpec,
    listen: &str,
    slot: &Mutex<Slot>,
) -> Result<(Child, SocketAddr), StartError> {
    let mut child = Command::new(&command.program)
        .args(&command.args)
        .args(["--listen", listen, "--zone", &instance.zone])
        .args(["--service", &command.service, "--exit-with-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| StartError::Spawn {
            instance: instance.name.clone(),
            program: command.program.display().to_string(),
            source,
        })?;
    let not_ready = |detail: String| StartError::NotReady {
        instance: instance.name.clone(),
        detail,
    };
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| not_ready("no stdout".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(READY_TIMEOUT, lines.next_line())
        .await
        .map_err(|_| not_ready("timed out".into()))?
        .map_err(|e| not_ready(e.to_string()))?
        .ok_or_else(|| not_ready("it exited first".into()))?;
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|addr| addr.trim().parse().ok())
        .ok_or_else(|| not_ready(format!("it printed {line:?}")))?;
    // Keep reading its stdout so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut slot = lock(slot);
    slot.pid = child.id();
    slot.starts += 1;
    Ok((child, addr))
}
