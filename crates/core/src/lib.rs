//! The vocabulary every CityOS subgraph shares: who is asking ([`context`]), how a request fails
//! ([`error`]), how entities are named ([`ids`]), how amounts are held ([`money`]), how lists are
//! paged ([`paging`]), how people are reached ([`contact`], [`address`]) and what text may hold ([`text`]).

pub mod address;
pub mod contact;
pub mod context;
pub mod error;
pub mod ids;
pub mod money;
pub mod outcome;
pub mod paging;
pub mod states;
pub mod text;

pub use context::{
    Acting, Actor, CompanyRole, CompanyScope, RequestContext, Role, TenantInfo, TenantStatus,
    VendorRole, VendorScope,
};
pub use error::{ApiError, ApiResult, ErrorCode};
pub use outcome::{Failure, Outcome, UserError};
