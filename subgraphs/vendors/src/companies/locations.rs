//! A company's shipping locations: named addresses its buyers' orders go to, at most
//! [`MAX_LOCATIONS`] per company, one of them the default. Its admins (acting for it) or staff
//! keep them, under the company's row lock.

use super::{lock, may_act, require_open};
use crate::errors::address as stored_address;
use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{CompanyId, CompanyLocationId};
use crate::schema::company_locations;
use chrono::{DateTime, Utc};
use cityos_core::address::Address;
use cityos_core::text::Line;
use cityos_core::{ApiError, CompanyRole, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The most shipping locations a company keeps.
pub const MAX_LOCATIONS: i64 = 200;

/// A shipping location as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = company_locations, check_for_backend(diesel::pg::Pg))]
pub struct Location {
    pub id: CompanyLocationId,
    pub company_id: CompanyId,
    pub name: String,
    pub address: serde_json::Value,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

/// A location as a client gives it; `None` keeps a field when changing one.
#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    pub name: Option<String>,
    pub address: Option<Address>,
    pub is_default: Option<bool>,
}

fn name_taken(name: &str) -> impl FnOnce() -> crate::errors::UserError + '_ {
    move || {
        crate::errors::UserError::new(
            "name",
            Code::NameTaken,
            format!("the company has a location named `{name}` already"),
        )
    }
}

async fn clear_default(tx: &mut TenantTx<'_>, company: CompanyId) -> QueryResult<()> {
    diesel::update(
        company_locations::table
            .filter(company_locations::company_id.eq(company))
            .filter(company_locations::is_default),
    )
    .set(company_locations::is_default.eq(false))
    .execute(tx.conn())
    .await
    .map(drop)
}

/// Adds a shipping location to company `id`; the first one is its default.
pub async fn add(
    db: &Database,
    ctx: &RequestContext,
    company: CompanyId,
    input: LocationInput,
) -> Outcome<Location> {
    may_act(ctx, company, CompanyRole::Admin)?;
    db.recorded(ctx, "company_location.add", async move |tx| {
        require_open(&lock(tx, company).await?)?;
        let name = input
            .name
            .ok_or_else(|| refusal("name", Code::InvalidText, "name the location"))?;
        let name = Line::<100>::parse(&name)
            .map(Line::into_inner)
            .map_err(|e| refusal("name", Code::InvalidText, e.message("a location's name")))?;
        let address = input
            .address
            .ok_or_else(|| refusal("address", Code::InvalidAddress, "give the address"))?;
        let address = stored_address(address, "address")?;
        let count: i64 = company_locations::table
            .filter(company_locations::company_id.eq(company))
            .count()
            .get_result(tx.conn())
            .await?;
        if count >= MAX_LOCATIONS {
            return Err(refusal(
                "companyId",
                Code::LimitReached,
                format!("a company keeps at most {MAX_LOCATIONS} locations"),
            ));
        }
        let is_default = count == 0 || input.is_default == Some(true);
        if is_default {
            clear_default(tx, company).await?;
        }
        let location: Location = diesel::insert_into(company_locations::table)
            .values((
                company_locations::tenant_id.eq(tx.tenant()),
                company_locations::id.eq(CompanyLocationId::new()),
                company_locations::company_id.eq(company),
                company_locations::name.eq(&name),
                company_locations::address.eq(&address),
                company_locations::is_default.eq(is_default),
            ))
            .returning(Location::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("company_locations_name_key", e, name_taken(&name)))?;
        let audit = Audit::of(
            location.id,
            serde_json::json!({ "company": company, "name": name }),
        );
        Ok((location, audit))
    })
    .await
}

async fn locked(tx: &mut TenantTx<'_>, id: CompanyLocationId) -> Outcome<Location> {
    company_locations::table
        .filter(company_locations::id.eq(id))
        .select(Location::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| refusal("id", Code::NotFound, "no such location"))
}

async fn company_of(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyLocationId,
) -> Outcome<CompanyId> {
    let tenant = ctx.tenant()?.id;
    let found: Option<CompanyId> = db
        .tenant_tx(tenant, async move |tx| {
            company_locations::table
                .filter(company_locations::id.eq(id))
                .select(company_locations::company_id)
                .first(tx.conn())
                .await
                .optional()
                .map_err(ApiError::from)
        })
        .await?;
    found.ok_or_else(|| refusal("id", Code::NotFound, "no such location"))
}

/// Changes a shipping location; making it the default unmakes the previous one. The default
/// cannot be unmade except by making another the default.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyLocationId,
    input: LocationInput,
) -> Outcome<Location> {
    let company = company_of(db, ctx, id).await?;
    may_act(ctx, company, CompanyRole::Admin)?;
    db.recorded(ctx, "company_location.update", async move |tx| {
        require_open(&lock(tx, company).await?)?;
        let current = locked(tx, id).await?;
        let name = match input.name {
            Some(n) => Line::<100>::parse(&n)
                .map(Line::into_inner)
                .map_err(|e| refusal("name", Code::InvalidText, e.message("a location's name")))?,
            None => current.name.clone(),
        };
        let address = match input.address {
            Some(a) => stored_address(a, "address")?,
            None => current.address.clone(),
        };
        if input.is_default == Some(false) && current.is_default {
            return Err(refusal(
                "isDefault",
                Code::DefaultRequired,
                "make another location the default instead",
            ));
        }
        if input.is_default == Some(true) && !current.is_default {
            clear_default(tx, company).await?;
        }
        let location: Location =
            diesel::update(company_locations::table.filter(company_locations::id.eq(id)))
                .set((
                    company_locations::name.eq(&name),
                    company_locations::address.eq(&address),
                    company_locations::is_default
                        .eq(current.is_default || input.is_default == Some(true)),
                ))
                .returning(Location::as_returning())
                .get_result(tx.conn())
                .await
                .map_err(|e| {
                    Failure::on_unique("company_locations_name_key", e, name_taken(&name))
                })?;
        let audit = Audit::of(id, serde_json::json!({ "company": company, "name": name }));
        Ok((location, audit))
    })
    .await
}

/// Removes a shipping location; removing the default makes the oldest remaining one the
/// default.
pub async fn remove(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyLocationId,
) -> Outcome<Location> {
    let company = company_of(db, ctx, id).await?;
    may_act(ctx, company, CompanyRole::Admin)?;
    db.recorded(ctx, "company_location.remove", async move |tx| {
        require_open(&lock(tx, company).await?)?;
        let current = locked(tx, id).await?;
        diesel::delete(company_locations::table.filter(company_locations::id.eq(id)))
            .execute(tx.conn())
            .await?;
        if current.is_default {
            let next: Option<CompanyLocationId> = company_locations::table
                .filter(company_locations::company_id.eq(company))
                .order(company_locations::created_at.asc())
                .select(company_locations::id)
                .first(tx.conn())
                .await
                .optional()?;
            if let Some(next) = next {
                diesel::update(company_locations::table.filter(company_locations::id.eq(next)))
                    .set(company_locations::is_default.eq(true))
                    .execute(tx.conn())
                    .await?;
            }
        }
        let audit = Audit::of(id, serde_json::json!({ "company": company }));
        Ok((current, audit))
    })
    .await
}

/// The locations of each of `companies`, the default first, then by name.
pub async fn of(
    tx: &mut TenantTx<'_>,
    companies: &[CompanyId],
) -> QueryResult<HashMap<CompanyId, Vec<Location>>> {
    let rows: Vec<Location> = company_locations::table
        .filter(company_locations::company_id.eq_any(companies))
        .select(Location::as_select())
        .order((
            company_locations::company_id,
            company_locations::is_default.desc(),
            company_locations::name,
        ))
        .load(tx.conn())
        .await?;
    let mut by_company: HashMap<CompanyId, Vec<Location>> = HashMap::new();
    for l in rows {
        by_company.entry(l.company_id).or_default().push(l);
    }
    Ok(by_company)
}
