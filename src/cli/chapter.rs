//! A chapter's binary from end to end: its command line (`train`, the
//! default, `generate`, `ngram` and, for gated cells, `gates`), what
//! runs, and how an error reaches the user.

use super::{ngram, GatesArgs, GenerateArgs, NgramArgs};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// A chapter's command line: `train` (the default, so its flags also work
/// without the subcommand) and `generate`. `T` is the chapter's training
/// flags: [`TrainArgs`], flattened into a struct with its own extras.
#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli<T: Args> {
    #[command(subcommand)]
    command: Option<Command<T>>,
    #[command(flatten)]
    train: T,
}

/// What a chapter's binary was asked to do.
#[derive(Debug, Subcommand)]
pub enum Command<T: Args> {
    /// Train a model (the default) and write metrics, a plot and a
    /// checkpoint.
    Train(T),
    /// Continue a prefix with a trained model.
    Generate(GenerateArgs),
    /// Score the validation text with the baseline every model should
    /// beat: interpolated Kneser–Ney character n-grams of orders 1 to 7.
    Ngram(NgramArgs),
    /// Run a passage through a trained model and draw what its gates do:
    /// a heatmap per gate, how often each saturates, and the units that
    /// follow spaces or the position in a word.
    Gates(GatesArgs),
}

/// What a chapter's `main` runs for each subcommand.
type Body<'a, A> = Box<dyn FnOnce(&A) -> anyhow::Result<()> + 'a>;

/// A chapter's binary: its name, its help, and the flags whose defaults
/// it changes (`("lr", "2")`).
#[derive(Debug, Clone, Copy)]
pub struct Chapter {
    pub name: &'static str,
    /// One line.
    pub about: &'static str,
    /// What the defaults train, for the end of `--help`.
    pub settings: &'static str,
    pub defaults: &'static [(&'static str, &'static str)],
    /// Whether the binary was built with libtorch, so that `--impl
    /// concise` can run: `cfg!(feature = "torch")` in the chapter's crate.
    pub concise: bool,
}

/// The settings of d2l's GRU and LSTM, which the one-layer chapters keep.
pub const D2L_SETTINGS: &str = "d2l's: 256 hidden units, lr 1, 500 \
    epochs, batch 32 × 35 steps, the first 10,000 characters";

impl Chapter {
    /// A one-layer chapter with d2l's settings; `concise` as the field.
    pub const fn d2l(
        name: &'static str,
        about: &'static str,
        concise: bool,
    ) -> Self {
        Self {
            name,
            about,
            settings: D2L_SETTINGS,
            defaults: &[],
            concise,
        }
    }

    /// The whole of a chapter's `main`: parses the command line with the
    /// chapter's training flags `T`, runs `train` or `generate`, and turns
    /// an error into a message and a failure status.
    pub fn main<T: Args + FromArgMatches>(
        &self,
        train: impl FnOnce(&T) -> anyhow::Result<()>,
        generate: impl FnOnce(&GenerateArgs) -> anyhow::Result<()>,
    ) {
        self.run(Box::new(train), Box::new(generate), None);
    }

    /// [`Chapter::main`] for a chapter whose cell has gates to look
    /// inside, with `gates` as the body of its `gates` subcommand.
    pub fn main_with_gates<T: Args + FromArgMatches>(
        &self,
        train: impl FnOnce(&T) -> anyhow::Result<()>,
        generate: impl FnOnce(&GenerateArgs) -> anyhow::Result<()>,
        gates: impl FnOnce(&GatesArgs) -> anyhow::Result<()>,
    ) {
        self.run(Box::new(train), Box::new(generate), Some(Box::new(gates)));
    }

    fn run<T: Args + FromArgMatches>(
        &self,
        train: Body<'_, T>,
        generate: Body<'_, GenerateArgs>,
        gates: Option<Body<'_, GatesArgs>>,
    ) {
        let has_gates = gates.is_some();
        exit_on_error(match self.parse::<T>(has_gates) {
            Command::Train(args) => train(&args),
            Command::Generate(args) => generate(&args),
            Command::Ngram(args) => ngram::ngram(&args),
            Command::Gates(args) => match gates {
                Some(gates) => gates(&args),
                None => Err(anyhow::anyhow!(
                    "{} has no gates to look inside: `ch_gru gates` and \
                     `ch_lstm gates` do",
                    self.name
                )),
            },
        });
    }

    /// Parses the command line. Without `has_gates`, the `gates`
    /// subcommand is hidden from the help.
    pub fn parse<T: Args + FromArgMatches>(
        &self,
        has_gates: bool,
    ) -> Command<T> {
        let Chapter {
            name,
            about,
            settings,
            defaults,
            ..
        } = *self;
        let after_help = format!(
            "With no subcommand, `train` runs: `{name} --epochs 5` trains \
             for five epochs, every other setting at its default. The \
             defaults are {settings}."
        );
        crate::io::console::file_size_limit_is_an_error();
        let mut command = Cli::<T>::command()
            .name(name)
            .bin_name(name)
            .about(about)
            .after_help(after_help)
            .version(env!("CARGO_PKG_VERSION"));
        if !has_gates {
            command = command.mut_subcommand("gates", |c| c.hide(true));
        }
        for &(flag, value) in defaults {
            command = command
                .mut_arg(flag, |a| a.default_value(value))
                .mut_subcommand("train", |c| {
                    c.mut_arg(flag, |a| a.default_value(value))
                });
        }
        let cli = command
            .try_get_matches()
            .and_then(|m| Cli::<T>::from_arg_matches(&m))
            .unwrap_or_else(|e| exit_with_usage(&e));
        cli.command.unwrap_or(Command::Train(cli.train))
    }
}

/// Prints clap's message (`--help`, `--version`, or a usage error) and
/// exits with its status; if the message cannot be printed, says so and
/// exits with 1, since a help text that went nowhere is no success.
fn exit_with_usage(e: &clap::Error) -> ! {
    match e.print() {
        Err(io) if io.kind() != std::io::ErrorKind::BrokenPipe => {
            crate::io::console::error(&format!(
                "cannot print to standard output: {io}"
            ));
            std::process::exit(1)
        }
        _ => std::process::exit(e.exit_code()),
    }
}

/// Runs a command's body and turns an error into a message on stderr and
/// a failure status, without a backtrace: errors here are for users. An
/// interrupted run exits as the signal would have (130 for Ctrl-C).
pub fn exit_on_error(result: anyhow::Result<()>) {
    let Err(e) = result else { return };
    // The chain of causes, skipping those a message already quotes.
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    crate::io::console::error(&message);
    let interrupted = matches!(
        e.downcast_ref::<crate::train::TrainError>(),
        Some(
            crate::train::TrainError::Interrupted { .. }
                | crate::train::TrainError::InterruptedAt { .. }
        )
    );
    std::process::exit(if interrupted {
        crate::io::console::interrupted_status()
    } else {
        1
    });
}
