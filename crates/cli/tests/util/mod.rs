//! Helpers that run the real `deskmove` binary in an isolated temporary directory
//! (the ripgrep `Dir` / `TestCommand` pattern).
#![allow(dead_code)]

pub mod chatwoot_db;
pub mod kill_resume;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An isolated working directory, removed at the end of the test.
#[derive(Debug)]
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.join(name), text).unwrap();
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap()
    }

    /// `deskmove <args>` run inside this directory with a clean environment for deskmove's own
    /// variables.
    pub fn deskmove(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().unwrap();
        Run { output }
    }

    /// `deskmove <args>` with each `(name, token)` of `secrets` in its environment; fails the
    /// test when a token appears in what it printed.
    pub fn deskmove_with(&self, args: &[&str], secrets: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (name, token) in secrets {
            cmd.env(name, token);
        }
        let run = Run {
            output: cmd.output().unwrap(),
        };
        for (_, token) in secrets {
            assert!(
                !run.stdout().contains(token) && !run.stderr().contains(token),
                "a token appeared in the output of {args:?}"
            );
        }
        run
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskmove"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("INTERCOM_TOKEN")
            .env_remove("CHATWOOT_TOKEN")
            .env_remove("ZENDESK_TOKEN")
            .env_remove("DESKMOVE_LOG")
            .env("NO_COLOR", "1");
        cmd
    }
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Standard output as JSON; fails the test with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| {
            panic!(
                "{e} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
                self.code(),
                self.stdout(),
                self.stderr()
            )
        })
    }

    /// Fails the test with both streams when the exit code differs.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A child process that is killed when the test ends, even when an assertion fails first.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `deskmove sandbox <vendor>` as a child process and returns it with its ready line.
pub fn start_sandbox(dir: &Dir, args: &[&str]) -> (KillOnDrop, String) {
    use std::io::BufRead;
    let mut child = dir
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = KillOnDrop(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

pub fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}
