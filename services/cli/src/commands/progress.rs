//! A spinner on stderr while long work runs, only on a terminal and only after a moment,
//! so scripts and quick runs see nothing.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::task::JoinHandle;

/// Shows `message` with a spinner until dropped.
pub struct Progress {
    task: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start(message: String) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress { task: None };
        }
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            for i in 0.. {
                eprint!("\r{} {message}", frames[i % frames.len()]);
                let _ = std::io::stderr().flush();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Progress { task: Some(task) }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
