//! stockbridge-adapters-shopify
