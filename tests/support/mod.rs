//! Helpers shared by the integration tests, one submodule a subject. A test declares
//! `mod support;` and uses what it needs (the rest is dead code to it):
//!
//! - [`mock`]: a guarded call that counts its body's runs, a detach-mode client of a mock Vault;
//! - [`scripted`]: a scripted Vault that answers byte for byte from queues, for client tests;
//! - [`ledger`]: ledger fixtures and a small ledger writer built from the public blocks;
//! - [`token`]: A-JWT fixtures, claims and forged tokens;
//! - [`hex`]: lowercase hex for hashes;
//! - [`http`]: plain HTTP to the servers under test (an answer's JSON body or status);
//! - [`browser`]: a headless Chromium through ChromeDriver, for the review page;
//! - [`gateway`]: a payment API behind the gateway layer, tokens for it;
//! - [`redis`]: a real `redis-server` of the test's own.
#![allow(dead_code)]

pub mod browser;
pub mod gateway;
pub mod hex;
pub mod http;
pub mod ledger;
pub mod mock;
pub mod redis;
pub mod scripted;
pub mod token;
