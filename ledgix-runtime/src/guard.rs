//! `ToolCall` (placeholder while the runtime core lands).

/// The imperative guard.
#[derive(Debug)]
pub struct ToolCall {}

#[doc(hidden)]
pub fn tool_args_error() {}
