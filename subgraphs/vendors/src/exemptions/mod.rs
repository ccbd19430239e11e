//! Tax exemption certificates: a company's proof that it owes no sales tax in one jurisdiction (a
//! country, or one region of it) between two days. Its admins (acting for it) or staff submit one;
//! staff verify or reject it (with a reason); staff or its admins revoke it. A VERIFIED
//! certificate applies to an order shipped into its jurisdiction on a day within its validity
//! ([`applies`]): orders' tax rules skip that jurisdiction and the order records the certificate
//! (through [`crate::api`]). An expired one no longer applies; nothing needs to run for that.

pub mod graphql;

use crate::companies::{lock, may_act, require_open};
use crate::errors::{Outcome, VendorsErrorCode as Code, reason, refusal};
use crate::ids::{CompanyId, TaxExemptionId, UserId};
use crate::schema::tax_exemptions;
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::{ApiError, CompanyRole, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Where a tax exemption certificate is.
    #[graphql(name = "TaxExemptionStatus")]
    pub enum ExemptionStatus {
        /// Submitted; staff have not reviewed it.
        Pending = "PENDING",
        /// Verified by staff: it applies within its validity.
        Verified = "VERIFIED",
        /// Turned down by staff (with a reason).
        Rejected = "REJECTED",
        /// Withdrawn (with a reason): it no longer applies.
        Revoked = "REVOKED",
    }
    transitions {
        Pending -> Verified | Rejected | Revoked,
        Verified -> Revoked,
    }
}

/// A certificate as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = tax_exemptions, check_for_backend(diesel::pg::Pg))]
pub struct Exemption {
    pub id: TaxExemptionId,
    pub company_id: CompanyId,
    pub country: String,
    pub region: Option<String>,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub document_url: String,
    pub status: ExemptionStatus,
    pub reason: Option<String>,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Exemption {
    /// Whether this certificate exempts an order shipped to `country` (and `region`, if the
    /// address names one) on `day`: it is VERIFIED, `day` is within its validity, the country
    /// is its own, and it covers the whole country or names the address's region (compared
    /// without regard to case or surrounding spaces).
    pub fn applies(&self, country: &str, region: Option<&str>, day: NaiveDate) -> bool {
        let region_ok = match (&self.region, region) {
            (None, _) => true,
            (Some(own), Some(theirs)) => own.trim().eq_ignore_ascii_case(theirs.trim()),
            (Some(_), None) => false,
        };
        self.status == ExemptionStatus::Verified
            && (self.valid_from..=self.valid_until).contains(&day)
            && self.country.eq_ignore_ascii_case(country.trim())
            && region_ok
    }
}

/// A certificate as a client submits it.
#[derive(Debug, Clone)]
pub struct Submission {
    pub country: String,
    pub region: Option<String>,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub document_url: String,
}

/// Submits a certificate for company `company` (its admins acting for it, or staff); it waits
/// PENDING for staff.
pub async fn submit(
    db: &Database,
    ctx: &RequestContext,
    company: CompanyId,
    submission: Submission,
) -> Outcome<Exemption> {
    may_act(ctx, company, CompanyRole::Admin)?;
    let country = submission.country.trim().to_owned();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(refusal(
            "country",
            Code::InvalidCertificate,
            "the country is an ISO 3166-1 alpha-2 code, e.g. `SA`",
        ));
    }
    let region = crate::errors::optional_text::<100>(submission.region.as_deref(), "region")?;
    let number = submission.number.trim().to_owned();
    let number_ok = (1..=64).contains(&number.chars().count())
        && number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '/' | '-'));
    if !number_ok {
        return Err(refusal(
            "number",
            Code::InvalidCertificate,
            "a certificate number is 1 to 64 letters, digits, spaces, dots, slashes and hyphens",
        ));
    }
    if submission.valid_until < submission.valid_from {
        return Err(refusal(
            "validUntil",
            Code::InvalidPeriod,
            "a certificate is valid until a day on or after it is valid from",
        ));
    }
    if submission.valid_until < Utc::now().date_naive() {
        return Err(refusal(
            "validUntil",
            Code::DocumentExpired,
            "the certificate has expired",
        ));
    }
    let url = crate::vendors::check_url(&submission.document_url, "documentUrl")?;
    db.recorded(ctx, "tax_exemption.submit", async move |tx| {
        require_open(&lock(tx, company).await?)?;
        let exemption: Exemption = diesel::insert_into(tax_exemptions::table)
            .values((
                tax_exemptions::tenant_id.eq(tx.tenant()),
                tax_exemptions::id.eq(TaxExemptionId::new()),
                tax_exemptions::company_id.eq(company),
                tax_exemptions::country.eq(&country),
                tax_exemptions::region.eq(&region),
                tax_exemptions::number.eq(&number),
                tax_exemptions::valid_from.eq(submission.valid_from),
                tax_exemptions::valid_until.eq(submission.valid_until),
                tax_exemptions::document_url.eq(&url),
            ))
            .returning(Exemption::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(
            exemption.id,
            serde_json::json!({ "company": company, "country": country, "region": region }),
        );
        Ok((exemption, audit))
    })
    .await
}

async fn company_of(db: &Database, ctx: &RequestContext, id: TaxExemptionId) -> Outcome<CompanyId> {
    let tenant = ctx.tenant()?.id;
    let found: Option<CompanyId> = db
        .tenant_tx(tenant, async move |tx| {
            tax_exemptions::table
                .filter(tax_exemptions::id.eq(id))
                .select(tax_exemptions::company_id)
                .first(tx.conn())
                .await
                .optional()
                .map_err(ApiError::from)
        })
        .await?;
    found.ok_or_else(|| refusal("id", Code::NotFound, "no such certificate"))
}

/// Moves certificate `id` to `to`: VERIFIED and REJECTED by staff, REVOKED by staff or the
/// company's admins; rejecting and revoking need a reason.
pub async fn review(
    db: &Database,
    ctx: &RequestContext,
    id: TaxExemptionId,
    to: ExemptionStatus,
    why: Option<String>,
) -> Outcome<Exemption> {
    let company = company_of(db, ctx, id).await?;
    match to {
        ExemptionStatus::Revoked => may_act(ctx, company, CompanyRole::Admin)?,
        _ => ctx.require_staff()?,
    }
    let reviewer = ctx.user_id().ok();
    let action = format!("tax_exemption.{}", to.as_str().to_ascii_lowercase());
    db.recorded(ctx, &action, async move |tx| {
        require_open(&lock(tx, company).await?)?;
        let current: Exemption = tax_exemptions::table
            .filter(tax_exemptions::id.eq(id))
            .select(Exemption::as_select())
            .for_update()
            .first(tx.conn())
            .await?;
        if !current.status.can_become(to) {
            return Err(refusal(
                "id",
                Code::CertificateReviewed,
                format!("the certificate is {} already", current.status),
            ));
        }
        let why = match to {
            ExemptionStatus::Rejected | ExemptionStatus::Revoked => {
                Some(reason::<1000>(why.as_deref(), "reason")?)
            }
            _ => None,
        };
        let exemption: Exemption =
            diesel::update(tax_exemptions::table.filter(tax_exemptions::id.eq(id)))
                .set((
                    tax_exemptions::status.eq(to),
                    tax_exemptions::reason.eq(&why),
                    tax_exemptions::reviewed_by.eq(reviewer),
                    tax_exemptions::reviewed_at.eq(diesel::dsl::now),
                ))
                .returning(Exemption::as_returning())
                .get_result(tx.conn())
                .await?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "company": company, "from": current.status, "to": to }),
        );
        Ok((exemption, audit))
    })
    .await
}

/// The certificates of each of `companies`, newest first.
pub async fn of(
    tx: &mut TenantTx<'_>,
    companies: &[CompanyId],
) -> QueryResult<HashMap<CompanyId, Vec<Exemption>>> {
    let rows: Vec<Exemption> = tax_exemptions::table
        .filter(tax_exemptions::company_id.eq_any(companies))
        .select(Exemption::as_select())
        .order((tax_exemptions::company_id, tax_exemptions::id.desc()))
        .load(tx.conn())
        .await?;
    let mut by_company: HashMap<CompanyId, Vec<Exemption>> = HashMap::new();
    for e in rows {
        by_company.entry(e.company_id).or_default().push(e);
    }
    Ok(by_company)
}

/// The certificate that exempts an order of `company` shipped to `country` and `region` on
/// `day`, if any (the most recently verified when several do).
pub async fn applicable(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    country: &str,
    region: Option<&str>,
    day: NaiveDate,
) -> QueryResult<Option<Exemption>> {
    let candidates: Vec<Exemption> = tax_exemptions::table
        .filter(tax_exemptions::company_id.eq(company))
        .filter(tax_exemptions::country.eq(country.trim().to_ascii_uppercase()))
        .filter(tax_exemptions::status.eq(ExemptionStatus::Verified))
        .select(Exemption::as_select())
        .order(tax_exemptions::reviewed_at.desc())
        .load(tx.conn())
        .await?;
    Ok(candidates
        .into_iter()
        .find(|e| e.applies(country, region, day)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(region: Option<&str>, status: ExemptionStatus) -> Exemption {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
        Exemption {
            id: TaxExemptionId::new(),
            company_id: CompanyId::new(),
            country: "SA".into(),
            region: region.map(str::to_owned),
            number: "EX-1".into(),
            valid_from: day(1),
            valid_until: day(31),
            document_url: "https://docs.example/ex.pdf".into(),
            status,
            reason: None,
            reviewed_by: None,
            reviewed_at: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_certificate_applies_only_verified_in_its_jurisdiction_and_validity() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("day");
        let whole = certificate(None, ExemptionStatus::Verified);
        assert!(whole.applies("SA", None, day(12, 1)));
        assert!(whole.applies("sa", Some("Riyadh"), day(12, 15)));
        assert!(
            whole.applies("SA", None, day(12, 31)),
            "the last day counts"
        );
        assert!(
            !whole.applies("SA", None, day(11, 30)),
            "before it is valid"
        );
        let after = NaiveDate::from_ymd_opt(2027, 1, 1).expect("day");
        assert!(!whole.applies("SA", None, after), "after it expired");
        assert!(!whole.applies("AE", None, day(12, 5)), "another country");

        let regional = certificate(Some("Riyadh"), ExemptionStatus::Verified);
        assert!(regional.applies("SA", Some(" riyadh "), day(12, 5)));
        assert!(!regional.applies("SA", Some("Jeddah"), day(12, 5)));
        assert!(
            !regional.applies("SA", None, day(12, 5)),
            "an address without a region"
        );

        for status in [
            ExemptionStatus::Pending,
            ExemptionStatus::Rejected,
            ExemptionStatus::Revoked,
        ] {
            assert!(!certificate(None, status).applies("SA", None, day(12, 5)));
        }
    }
}
