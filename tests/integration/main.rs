//! Integration tests against the real stack: one binary, one module per concern.

mod check;
mod consumer_state;
mod contract_inputs;
mod corpus;
mod dead_letters;
mod delete_race;
mod exactly_once;
mod merge_rule;
mod observe;
mod outages;
mod pipeline;
mod poison;
mod producer_shutdown;
mod prometheus;
mod quality;
mod replay;
mod scaling;
mod secrets;
mod write_paths;
mod x_api;
mod x_rules_exit;
mod x_search_hostile;
mod x_stream_hostile;
