//! stockbridge-adapters-store
