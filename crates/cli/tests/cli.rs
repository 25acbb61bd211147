//! End-to-end tests of the `deskmove` binary, each in its own temporary directory.

mod util;

use util::Dir;

#[test]
fn help_teaches_the_first_steps_and_the_exit_codes() {
    let dir = Dir::new();
    let out = dir.deskmove(&["--help"]).expect_code(0).stdout();
    assert!(out.contains("deskmove init --from intercom --to chatwoot"), "{out}");
    assert!(out.contains("Exit codes: 0 done; 1 failed; 2 bad usage"), "{out}");
}

#[test]
fn init_writes_a_config_and_never_overwrites_it() {
    let dir = Dir::new();
    let run = dir.deskmove(&["init", "--from", "intercom", "--to", "chatwoot"]).expect_code(0);
    assert!(run.stderr().contains("export INTERCOM_TOKEN"), "{}", run.stderr());
    let written = dir.read("deskmove.toml");
    assert!(written.contains("token_env = \"INTERCOM_TOKEN\""));

    dir.write("deskmove.toml", "# my edits\n");
    let again = dir.deskmove(&["init"]).expect_code(2);
    assert!(again.stderr().contains("never overwrites"), "{}", again.stderr());
    assert_eq!(dir.read("deskmove.toml"), "# my edits\n", "the user's file is untouched");
}

#[test]
fn init_refuses_pairs_it_cannot_move_yet() {
    let dir = Dir::new();
    let run = dir.deskmove(&["init", "--from", "chatwoot", "--to", "chatwoot"]).expect_code(2);
    assert!(run.stderr().contains("cannot be a source yet"), "{}", run.stderr());
    assert!(!dir.join("deskmove.toml").exists());
}

#[test]
fn unknown_commands_are_usage_errors() {
    Dir::new().deskmove(&["frobnicate"]).expect_code(2);
}
