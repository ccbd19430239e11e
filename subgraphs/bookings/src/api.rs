//! What the bookings subgraph offers the other subgraphs: the only module they may use (`cargo
//! xtask test` checks it). Today its ids; holds and their conversion at checkout come with them.

pub use crate::ids::{CalendarId, ServiceId};
