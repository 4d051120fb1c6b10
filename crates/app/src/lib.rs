//! stockbridge-app
