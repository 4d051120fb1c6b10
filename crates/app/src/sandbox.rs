//! `stockbridge sandbox`: runs the Shopify and TikTok Shop emulators until stopped.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::anyhow;
use stockbridge_sandbox::{SandboxOptions, Shops};

use crate::error::CommandError;

/// Runs `stockbridge sandbox` until Ctrl-C or SIGTERM.
pub async fn run(
    (fixture, copies): (&Path, Option<usize>),
    listen: SocketAddr,
    (webhook_urls, tiktok_webhook_urls): (Vec<String>, Vec<String>),
    tiktok_rps: Option<u32>,
    shopify_bucket: Option<f64>,
    shopify_restore_rate: Option<f64>,
) -> Result<(), CommandError> {
    let shops = Shops::load(fixture).map_err(CommandError::configuration)?;
    let shops = match copies {
        None => shops,
        Some(n) => {
            let Some(single) = shops.into_single() else {
                return Err(CommandError::configuration(anyhow!(
                    "--shops {n}: {} lists its shops already; allowed: --shops with a one-shop fixture, or a `shops` list without --shops",
                    fixture.display()
                )));
            };
            Shops::copies(single, n).map_err(|e| CommandError::configuration(anyhow!("{e}")))?
        }
    };
    let count = shops.len();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CommandError::configuration(anyhow!("cannot listen on {listen}: {e}")))?;
    let mut options = SandboxOptions {
        webhook_urls,
        tiktok_webhook_urls,
        ..SandboxOptions::default()
    };
    if let Some(rps) = tiktok_rps {
        options.tiktok_requests_per_second = (rps > 0).then_some(rps);
    }
    // The defaults are valid, so a failed check after setting one flag names that flag.
    if let Some(b) = shopify_bucket {
        options.shopify_bucket_size = b;
        options
            .validate()
            .map_err(|e| CommandError::configuration(anyhow!("--shopify-bucket: {e}")))?;
    }
    if let Some(r) = shopify_restore_rate {
        options.shopify_restore_rate = r;
        options
            .validate()
            .map_err(|e| CommandError::configuration(anyhow!("--shopify-restore-rate: {e}")))?;
    }
    let sandbox = stockbridge_sandbox::Sandbox::start_shops(shops, listener, options)
        .await
        .map_err(CommandError::configuration)?;
    let base = sandbox.base_url();
    println!("Shopify Admin GraphQL: {base}/admin/api/2026-10/graphql.json");
    println!("TikTok Shop API:       {base}");
    println!("TikTok token host:     {base}");
    println!("Control API:           {base}/_sandbox/");
    if count > 1 {
        println!(
            "Shops:                 {count}; Shopify base_url of shop DOMAIN: {base}/shops/DOMAIN; control calls take ?shop=DOMAIN"
        );
    }
    println!("Listening; Ctrl-C or SIGTERM stops.");
    crate::serve::shutdown_signal().await;
    sandbox.shutdown().await;
    Ok(())
}
