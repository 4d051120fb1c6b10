//! stockbridge-adapters-tiktok
