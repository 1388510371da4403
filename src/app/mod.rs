//! The application layer: the workflows, each one function that takes who is
//! acting and typed input and returns a typed outcome or refusal, owning its
//! transaction, its audit entry and its side effects. The web pages, the API,
//! the command line and the benchmark call these, so they cannot drift apart.
//!
//! - [`imports`]: attendance imports: preview, commit, undo and discard

pub mod imports;
