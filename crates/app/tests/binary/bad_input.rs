//! Bad input, generated: random bodies and headers at `POST /webhooks/shopify` (never a 5xx,
//! never a TikTok change without a valid signature) and random configuration files (always a
//! named error, exit code 2 from the binary, never a panic).

mod accepted_configs;
mod misplaced_secrets;
mod refused_configs;
mod webhooks;

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use stockbridge_app::Settings;

use crate::binary::support::*;
