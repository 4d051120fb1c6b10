//! stockbridge-sandbox
