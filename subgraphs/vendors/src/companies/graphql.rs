//! Companies in GraphQL: the `Company` type, `company`, `companies` and `myCompanies`; the
//! registration, profile, terms and lifecycle mutations; locations; members, their invitations
//! and spending limits.

use super::locations::{self, Location, LocationInput};
use super::members::{self, Buyers, Invitation, Member};
use super::rules::{self, ApprovalRule, Level, Mode, NewRule};
use super::{Company, CompanyStatus, NameKey, PaymentTerms, Profile, Terms, Viewer};
use crate::errors::VendorsUserError;
use crate::exemptions::Exemption;
use crate::ids::ApprovalRuleId;
use crate::ids::{CompanyId, CompanyLocationId, InvitationId, UserId};
use crate::membership::{self, InvitationStatus};
use crate::scope::{
    ApprovalRulesOf, CompanyInvitationsOf, CompanyMembersOf, ExemptionsOf, LocationsOf,
    VendorsLoader, company_children_of, in_tenant, no_such_company,
};
use crate::vendors::graphql::maybe;
use async_graphql::dataloader::Loader;
use async_graphql::{
    ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use cityos_core::address::Address;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_core::paging::PageRequest;
use cityos_core::{ApiError, CompanyRole};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(CompanyConnection, CompanyEdge, Company, "company");

company_children_of!(LocationsOf => Location, locations::of);
company_children_of!(CompanyMembersOf => Member, membership::members_of::<Buyers>);
company_children_of!(CompanyInvitationsOf => Invitation, membership::pending_of::<Buyers>);
company_children_of!(ExemptionsOf => Exemption, crate::exemptions::of);
company_children_of!(ApprovalRulesOf => ApprovalRule, rules::of);

impl Loader<CompanyId> for VendorsLoader {
    type Value = Company;
    type Error = ApiError;

    async fn load(&self, keys: &[CompanyId]) -> Result<HashMap<CompanyId, Company>, ApiError> {
        let viewer = self.companies;
        let keys: Vec<CompanyId> = keys.iter().copied().filter(|k| viewer.sees(*k)).collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(super::by_ids(tx, &keys).await?)
            })
            .await
    }
}

/// A company its member reads through their own membership (`myCompanies`), acting for it or
/// not: the membership itself is the permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnCompany(pub CompanyId);

impl Loader<OwnCompany> for VendorsLoader {
    type Value = Company;
    type Error = ApiError;

    async fn load(&self, keys: &[OwnCompany]) -> Result<HashMap<OwnCompany, Company>, ApiError> {
        let ids: Vec<CompanyId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(super::by_ids(tx, &ids).await?)
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, c)| (OwnCompany(id), c))
            .collect())
    }
}

fn viewer(ctx: &Context<'_>) -> Result<Viewer> {
    Ok(Viewer::of(ctx.request()?))
}

/// An early-payment discount: so much off an invoice paid within so many days of the order.
#[derive(SimpleObject, InputObject, Debug, Clone, Copy)]
#[graphql(input_name = "EarlyPaymentDiscountInput")]
pub struct EarlyPaymentDiscount {
    /// The discount, in basis points of the invoice (200 = 2%), 1 to 10,000.
    pub rate_bps: i32,
    /// Within how many days of the order the invoice must be paid (1 to 90, fewer than the net
    /// days).
    pub days: i32,
}

/// A B2B buying company: its buyers order for it within their limits, on the terms the tenant
/// grants it.
#[Object]
impl Company {
    /// The company's id (what `x-company-id` names).
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its trading name.
    async fn name(&self) -> &str {
        &self.name
    }
    /// Its registered legal name (invoices carry it).
    async fn legal_name(&self) -> &str {
        &self.legal_name
    }
    /// Its tax registration number.
    async fn tax_id(&self) -> Option<&str> {
        self.tax_id.as_deref()
    }
    /// Its VAT registration number.
    async fn vat_id(&self) -> Option<&str> {
        self.vat_id.as_deref()
    }
    /// Its accounts e-mail address.
    async fn email(&self) -> &str {
        &self.email
    }
    /// Its phone number.
    async fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }
    /// Where its invoices go.
    async fn billing_address(&self) -> Result<Address> {
        Ok(serde_json::from_value(self.billing_address.clone()).map_err(ApiError::internal)?)
    }
    /// Where it is in its lifecycle: buyers order only for ACTIVE companies (ON_HOLD ones pay
    /// at checkout only).
    async fn status(&self) -> CompanyStatus {
        self.status
    }
    /// Why it is on hold or closed.
    async fn status_reason(&self) -> Option<&str> {
        self.status_reason.as_deref()
    }
    /// The currency its limits, credit and account are kept in (ISO 4217).
    async fn currency(&self) -> &str {
        self.currency.code()
    }
    /// When it pays: at checkout (PREPAID), or on account with its invoices due so many days
    /// after each order.
    async fn payment_terms(&self) -> PaymentTerms {
        self.payment_terms
    }
    /// The discount for paying an invoice early, if the terms give one.
    async fn early_payment_discount(&self) -> Option<EarlyPaymentDiscount> {
        self.early_discount_bps
            .zip(self.early_discount_days)
            .map(|(rate_bps, days)| EarlyPaymentDiscount { rate_bps, days })
    }
    /// What it may owe on account at once (unpaid invoices plus a new order).
    async fn credit_limit(&self) -> Money {
        Money::new(self.credit_limit, self.currency)
    }
    /// Days past an invoice's due date before the company is put ON_HOLD.
    async fn grace_days(&self) -> i32 {
        self.grace_days
    }
    /// The catalog customer group whose price lists and volume tiers its buyers get.
    async fn customer_group_id(&self) -> Option<ID> {
        self.customer_group_id.map(to_id)
    }
    /// Whether every order needs a purchase-order number.
    async fn po_required(&self) -> bool {
        self.po_required
    }
    /// Days an approval request waits for its approvers before it expires.
    async fn approval_days(&self) -> i32 {
        self.approval_days
    }
    /// Counts its changes of status.
    async fn version(&self) -> i32 {
        self.version
    }
    /// When it registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When its profile or terms last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// Where its orders may be shipped, the default first.
    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<Location>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(LocationsOf(self.id))
            .await?
            .unwrap_or_default())
    }
    /// Its members, oldest first. Spending limits show to its admins, staff and each member
    /// for themself.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<CompanyMember>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(CompanyMembersOf(self.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CompanyMember::from)
            .collect())
    }
    /// Its pending invitations (its admins and staff; null for anyone else).
    async fn invitations(&self, ctx: &Context<'_>) -> Result<Option<Vec<Invitation>>> {
        if !viewer(ctx)?.administers(self.id) {
            return Ok(None);
        }
        Ok(Some(
            ctx.loader::<VendorsLoader>()?
                .load_one(CompanyInvitationsOf(self.id))
                .await?
                .unwrap_or_default(),
        ))
    }
    /// Its tax exemption certificates, newest first.
    async fn tax_exemptions(&self, ctx: &Context<'_>) -> Result<Vec<Exemption>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(ExemptionsOf(self.id))
            .await?
            .unwrap_or_default())
    }
    /// Its active approval rules, in the order they apply (the first that a checkout meets
    /// sends it for approval).
    async fn approval_rules(&self, ctx: &Context<'_>) -> Result<Vec<ApprovalRule>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(ApprovalRulesOf(self.id))
            .await?
            .unwrap_or_default())
    }
}

/// A company's approval rule: which of its buyers' checkouts wait for approval, and by whom.
#[Object(name = "CompanyApprovalRule")]
impl ApprovalRule {
    /// The rule's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.name
    }
    /// It applies to orders costing at least this much, in this currency (null: any total).
    async fn min_total(&self) -> Option<Money> {
        let currency = cityos_core::money::Currency::parse(self.currency.as_deref()?).ok()?;
        Some(Money::new(self.min_total?, currency))
    }
    /// It applies to buyers with this role (null: any role).
    async fn buyer_role(&self) -> Option<CompanyRole> {
        CompanyRole::parse(self.buyer_role.as_deref()?).ok()
    }
    /// It applies to carts holding a product of this category or one beneath it (null: any).
    async fn category_id(&self) -> Option<ID> {
        self.category_id.map(to_id)
    }
    /// Its chain of levels, approved in order.
    async fn levels(&self) -> Vec<ApprovalLevel> {
        self.chain()
            .into_iter()
            .map(|l| ApprovalLevel {
                mode: l.mode,
                roles: l.roles,
                member_ids: l.members.into_iter().map(to_id).collect(),
            })
            .collect()
    }
    /// Where it stands among the company's rules (lower first).
    async fn position(&self) -> i32 {
        self.position
    }
    /// Whether it applies to new checkouts.
    async fn active(&self) -> bool {
        self.active
    }
}

/// One level of an approval chain.
#[derive(SimpleObject)]
pub struct ApprovalLevel {
    /// ANY one of its approvers, or ALL of them.
    pub mode: Mode,
    /// Members holding these roles approve.
    pub roles: Vec<CompanyRole>,
    /// These members approve.
    pub member_ids: Vec<ID>,
}

/// A money amount in minor units with its currency.
#[derive(InputObject)]
pub struct AmountInput {
    /// Minor units (halalas, cents).
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// One level of an approval chain to create.
#[derive(InputObject)]
pub struct ApprovalLevelInput {
    /// ANY one of its approvers, or ALL of them.
    pub mode: Mode,
    /// Members holding these roles approve (at most 3).
    #[graphql(default)]
    pub roles: Vec<CompanyRole>,
    /// These members approve (at most 20, each a member of the company).
    #[graphql(default)]
    pub member_ids: Vec<UserId>,
}

/// A new approval rule.
#[derive(InputObject)]
pub struct CompanyApprovalRuleCreateInput {
    /// The company.
    pub company_id: CompanyId,
    /// Its name, 1 to 100 characters.
    pub name: String,
    /// Applies to orders costing at least this much in this currency.
    pub min_total: Option<AmountInput>,
    /// Applies to buyers with this role.
    pub buyer_role: Option<CompanyRole>,
    /// Applies to carts holding a product of this category or one beneath it.
    pub category_id: Option<catalog::api::CategoryId>,
    /// The chain, 1 to 5 levels, approved in order.
    pub levels: Vec<ApprovalLevelInput>,
    /// Where it stands among the company's rules (lower applies first); 0 when omitted.
    pub position: Option<i32>,
}

/// An approval rule to deactivate.
#[derive(InputObject)]
pub struct CompanyApprovalRuleDeactivateInput {
    /// The rule.
    pub id: ApprovalRuleId,
}

cityos_core::payload! {
    /// The result of an approval rule mutation.
    CompanyApprovalRulePayload<VendorsUserError> {
        /// The rule as it now is; null when refused.
        approval_rule: ApprovalRule,
    }
}

/// A user's place in a company.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CompanyMember {
    /// The member's user id.
    pub user_id: ID,
    /// The address they signed up with.
    pub email: String,
    /// Their role in the company.
    pub role: CompanyRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    #[graphql(skip)]
    pub member: Member,
}

impl From<Member> for CompanyMember {
    fn from(m: Member) -> Self {
        Self {
            user_id: to_id(m.user_id),
            email: m.email.clone(),
            role: m.role,
            joined_at: m.created_at,
            member: m,
        }
    }
}

impl CompanyMember {
    /// The member's limit `pick`s, in the company's currency, when the caller may see it.
    async fn limit(
        &self,
        ctx: &Context<'_>,
        pick: impl Fn(&Member) -> Option<i64>,
    ) -> Result<Option<Money>> {
        let request = ctx.request()?;
        let own = request.user_id().ok() == Some(self.member.user_id);
        if !(own || Viewer::of(request).administers(self.member.organization_id)) {
            return Ok(None);
        }
        let Some(limit) = pick(&self.member) else {
            return Ok(None);
        };
        let company = ctx
            .loader::<VendorsLoader>()?
            .load_one(self.member.organization_id)
            .await?
            .ok_or_else(no_such_company)?;
        Ok(Some(Money::new(limit, company.currency)))
    }
}

#[ComplexObject]
impl CompanyMember {
    /// The most one order of theirs may cost (null: no limit, or not shown to the caller).
    async fn order_limit(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        self.limit(ctx, |m| m.order_limit).await
    }
    /// The most their orders (placed, or awaiting approval) may cost in a calendar month (null:
    /// no limit, or not shown to the caller).
    async fn monthly_limit(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        self.limit(ctx, |m| m.monthly_limit).await
    }
    /// The company: for the member themself, and for whoever may see it.
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        let loader = ctx.loader::<VendorsLoader>()?;
        if ctx.request()?.user_id().ok() == Some(self.member.user_id) {
            return Ok(loader
                .load_one(OwnCompany(self.member.organization_id))
                .await?);
        }
        Ok(loader.load_one(self.member.organization_id).await?)
    }
}

/// An invitation to a company (its token is shown once, when it is made).
#[Object(name = "CompanyInvitation")]
impl Invitation {
    /// The invitation's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The address invited: whoever signs in with it may accept.
    async fn email(&self) -> &str {
        &self.email
    }
    /// The role the invitee gets.
    async fn role(&self) -> CompanyRole {
        self.role
    }
    /// PENDING, ACCEPTED or REVOKED.
    async fn status(&self) -> InvitationStatus {
        self.status
    }
    /// Until when it may be accepted.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A place a company's orders may be shipped to.
#[Object(name = "CompanyLocation")]
impl Location {
    /// The location's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name in the company ("Riyadh warehouse").
    async fn name(&self) -> &str {
        &self.name
    }
    /// Its address.
    async fn address(&self) -> Result<Address> {
        Ok(serde_json::from_value(self.address.clone()).map_err(ApiError::internal)?)
    }
    /// Whether orders go here unless the buyer chooses another.
    async fn is_default(&self) -> bool {
        self.is_default
    }
    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Which companies a list holds.
#[derive(InputObject, Default)]
pub struct CompanyFilterInput {
    /// Only these statuses (every status when absent).
    pub status: Option<Vec<CompanyStatus>>,
    /// Only companies whose name contains this (case-insensitive, at most 100 characters).
    pub query: Option<String>,
}

/// The queries of companies.
#[derive(Default)]
pub struct CompanyQuery;

#[Object]
impl CompanyQuery {
    /// A company by id: staff see any, its members acting for it (`x-company-id`) their own;
    /// null for anyone else.
    async fn company(&self, ctx: &Context<'_>, id: CompanyId) -> Result<Option<Company>> {
        Ok(ctx.loader::<VendorsLoader>()?.load_one(id).await?)
    }

    /// The tenant's companies by name (staff).
    #[graphql(complexity = "cityos_core::paging::page_cost(first, None, child_complexity)")]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CompanyFilterInput>,
    ) -> Result<CompanyConnection> {
        ctx.request()?.require_staff()?;
        let filter = filter.unwrap_or_default();
        let query = match filter.query {
            Some(q) => cityos_core::text::Text::<100>::parse_optional(Some(&q))
                .map_err(|e| ApiError::bad_input(e.message("`query`")))?
                .map(cityos_core::text::Text::into_inner),
            None => None,
        };
        let statuses = filter.status.unwrap_or_default();
        let page = PageRequest::<NameKey>::new(first, after.as_deref(), None, None)?;
        let found = in_tenant!(ctx, |tx| super::list(tx, &statuses, query.as_deref(), page))?;
        Ok(found.into())
    }

    /// The companies the signed-in user belongs to: those they may buy for (send one's id as
    /// `x-company-id`).
    async fn my_companies(&self, ctx: &Context<'_>) -> Result<Vec<CompanyMember>> {
        let user = ctx.request()?.user_id()?;
        let found = in_tenant!(ctx, |tx| membership::memberships_of::<Buyers>(tx, user))?;
        Ok(found.into_iter().map(CompanyMember::from).collect())
    }
}

/// A company to register.
#[derive(InputObject)]
pub struct CompanyRegisterInput {
    /// Its trading name, 1 to 200 characters.
    pub name: String,
    /// Its registered legal name (the name when absent).
    pub legal_name: Option<String>,
    /// Its tax registration number.
    pub tax_id: Option<String>,
    /// Its VAT registration number.
    pub vat_id: Option<String>,
    /// Its accounts e-mail address.
    pub email: String,
    /// Its phone number.
    pub phone: Option<String>,
    /// Where its invoices go.
    pub billing_address: Address,
    /// Its currency (ISO 4217; the tenant's when absent).
    pub currency: Option<String>,
    /// Whether every order needs a purchase-order number (no when absent).
    pub po_required: Option<bool>,
    /// Days approval requests wait (7 when absent).
    pub approval_days: Option<i32>,
}

/// Changes to a company's profile and ordering policy; absent fields stay.
#[derive(InputObject)]
pub struct CompanyUpdateInput {
    /// The company.
    pub id: CompanyId,
    /// Its trading name.
    pub name: Option<String>,
    /// Its legal name.
    pub legal_name: Option<String>,
    /// Its tax registration number (null removes it).
    pub tax_id: MaybeUndefined<String>,
    /// Its VAT registration number (null removes it).
    pub vat_id: MaybeUndefined<String>,
    /// Its accounts e-mail address.
    pub email: Option<String>,
    /// Its phone number (null removes it).
    pub phone: MaybeUndefined<String>,
    /// Where its invoices go.
    pub billing_address: Option<Address>,
    /// Its currency (only while PENDING_VERIFICATION).
    pub currency: Option<String>,
    /// Whether every order needs a purchase-order number.
    pub po_required: Option<bool>,
    /// Days approval requests wait (1 to 90).
    pub approval_days: Option<i32>,
}

/// The terms the tenant grants a company; absent fields stay.
#[derive(InputObject)]
pub struct CompanyTermsInput {
    /// The company.
    pub id: CompanyId,
    /// When it pays.
    pub payment_terms: Option<PaymentTerms>,
    /// The early-payment discount (null removes it).
    pub early_payment_discount: MaybeUndefined<EarlyPaymentDiscount>,
    /// What it may owe on account at once, in minor units of its currency.
    pub credit_limit: Option<i64>,
    /// Days past due before unpaid invoices put it ON_HOLD (0 to 90).
    pub grace_days: Option<i32>,
    /// The catalog customer group its buyers join (null unlinks it).
    pub customer_group_id: MaybeUndefined<catalog::api::CustomerGroupId>,
}

/// A company to move on in its lifecycle.
#[derive(InputObject)]
pub struct CompanyTransitionInput {
    /// The company.
    pub id: CompanyId,
    /// Why (required to hold or close; at most 1,000 characters).
    pub reason: Option<String>,
}

/// A location to add.
#[derive(InputObject)]
pub struct CompanyLocationAddInput {
    /// The company.
    pub company_id: CompanyId,
    /// Its name in the company, 1 to 100 characters, unique there.
    pub name: String,
    /// Its address.
    pub address: Address,
    /// Whether it becomes the default (the first location always is).
    pub is_default: Option<bool>,
}

/// Changes to a location; absent fields stay.
#[derive(InputObject)]
pub struct CompanyLocationUpdateInput {
    /// The location.
    pub id: CompanyLocationId,
    /// Its name.
    pub name: Option<String>,
    /// Its address.
    pub address: Option<Address>,
    /// True makes it the default (the previous default stops being it).
    pub is_default: Option<bool>,
}

/// Someone to invite to a company.
#[derive(InputObject)]
pub struct CompanyInviteInput {
    /// The company (the one the caller acts for, unless staff).
    pub company_id: CompanyId,
    /// Their e-mail address.
    pub email: String,
    /// The role they get.
    pub role: CompanyRole,
}

/// A member to change or remove.
#[derive(InputObject)]
pub struct CompanyMemberInput {
    /// The company.
    pub company_id: CompanyId,
    /// The member's user id.
    pub user_id: UserId,
}

/// A member's new role.
#[derive(InputObject)]
pub struct CompanyMemberRoleInput {
    /// The company.
    pub company_id: CompanyId,
    /// The member's user id.
    pub user_id: UserId,
    /// Their new role.
    pub role: CompanyRole,
}

/// A member's spending limits, in minor units of the company's currency.
#[derive(InputObject)]
pub struct CompanyMemberLimitsInput {
    /// The company.
    pub company_id: CompanyId,
    /// The member's user id.
    pub user_id: UserId,
    /// The most one order may cost (null or absent: no limit).
    pub order_limit: Option<i64>,
    /// The most their orders may cost in a calendar month (null or absent: no limit).
    pub monthly_limit: Option<i64>,
}

cityos_core::payload! {
    /// The result of a company mutation.
    CompanyPayload<VendorsUserError> {
        /// The company as it now is; null when refused.
        company: Company,
    }
}

cityos_core::payload! {
    /// The result of a location mutation.
    CompanyLocationPayload<VendorsUserError> {
        /// The location (as it now is, or as it was when removed); null when refused.
        location: Location,
    }
}

cityos_core::payload! {
    /// The result of `companyInvite`.
    CompanyInvitePayload<VendorsUserError> {
        /// The invitation; null when refused.
        invitation: Invitation,
        /// Its token, shown this once (only its digest is kept): send it to the invitee, who
        /// accepts it with `companyInvitationAccept`.
        token: String,
    }
}

cityos_core::payload! {
    /// The result of `companyInvitationRevoke`.
    CompanyInvitationPayload<VendorsUserError> {
        /// The invitation as it now is; null when refused.
        invitation: Invitation,
    }
}

cityos_core::payload! {
    /// The result of a member mutation.
    CompanyMemberPayload<VendorsUserError> {
        /// The member (as they now are, or as they were when removed); null when refused.
        member: CompanyMember,
    }
}

/// The mutations of companies.
#[derive(Default)]
pub struct CompanyMutation;

#[Object]
impl CompanyMutation {
    /// Registers a company: a signed-in customer becomes its first ADMIN (staff register one
    /// without members, then invite its admin). It starts PENDING_VERIFICATION.
    async fn company_register(
        &self,
        ctx: &Context<'_>,
        input: CompanyRegisterInput,
    ) -> Result<CompanyPayload> {
        let profile = Profile {
            name: Some(input.name),
            legal_name: input.legal_name,
            tax_id: Some(input.tax_id),
            vat_id: Some(input.vat_id),
            email: Some(input.email),
            phone: Some(input.phone),
            billing_address: Some(input.billing_address),
            currency: input.currency,
            po_required: input.po_required,
            approval_days: input.approval_days,
        };
        Ok(CompanyPayload::of(
            super::register(ctx.db(), ctx.request()?, profile).await,
        )?)
    }

    /// Changes a company's profile and ordering policy (its admins acting for it, or staff).
    async fn company_update(
        &self,
        ctx: &Context<'_>,
        input: CompanyUpdateInput,
    ) -> Result<CompanyPayload> {
        let profile = Profile {
            name: input.name,
            legal_name: input.legal_name,
            tax_id: maybe(input.tax_id),
            vat_id: maybe(input.vat_id),
            email: input.email,
            phone: maybe(input.phone),
            billing_address: input.billing_address,
            currency: input.currency,
            po_required: input.po_required,
            approval_days: input.approval_days,
        };
        Ok(CompanyPayload::of(
            super::update(ctx.db(), ctx.request()?, input.id, profile).await,
        )?)
    }

    /// Grants a company its payment terms, credit limit, grace period and customer group
    /// (staff). A new customer group takes the company's members with it.
    async fn company_terms_update(
        &self,
        ctx: &Context<'_>,
        input: CompanyTermsInput,
    ) -> Result<CompanyPayload> {
        let terms = Terms {
            payment_terms: input.payment_terms,
            early_discount: maybe(input.early_payment_discount)
                .map(|d| d.map(|d| (d.rate_bps, d.days))),
            credit_limit: input.credit_limit,
            grace_days: input.grace_days,
            customer_group_id: maybe(input.customer_group_id),
        };
        Ok(CompanyPayload::of(
            super::set_terms(ctx.db(), ctx.request()?, input.id, terms).await,
        )?)
    }

    /// Verifies a registered company, or releases one on hold (staff): ACTIVE.
    async fn company_activate(
        &self,
        ctx: &Context<'_>,
        input: CompanyTransitionInput,
    ) -> Result<CompanyPayload> {
        move_to(ctx, input, CompanyStatus::Active).await
    }

    /// Puts an active company on hold, with a reason (staff): its buyers pay at checkout only.
    async fn company_hold(
        &self,
        ctx: &Context<'_>,
        input: CompanyTransitionInput,
    ) -> Result<CompanyPayload> {
        move_to(ctx, input, CompanyStatus::OnHold).await
    }

    /// Closes a company for good, with a reason (staff).
    async fn company_close(
        &self,
        ctx: &Context<'_>,
        input: CompanyTransitionInput,
    ) -> Result<CompanyPayload> {
        move_to(ctx, input, CompanyStatus::Closed).await
    }

    /// Creates an approval rule (the company's admins acting for it, or staff): a buyer's
    /// checkout that meets its conditions waits for its chain of approvers.
    async fn company_approval_rule_create(
        &self,
        ctx: &Context<'_>,
        input: CompanyApprovalRuleCreateInput,
    ) -> Result<CompanyApprovalRulePayload> {
        let rule = NewRule {
            name: input.name,
            min_total: input.min_total.map(|m| (m.amount_minor, m.currency)),
            buyer_role: input.buyer_role,
            category_id: input.category_id,
            levels: input
                .levels
                .into_iter()
                .map(|l| Level {
                    mode: l.mode,
                    roles: l.roles,
                    members: l.member_ids,
                })
                .collect(),
            position: input.position.unwrap_or(0),
        };
        Ok(CompanyApprovalRulePayload::of(
            rules::create(ctx.db(), ctx.request()?, input.company_id, rule).await,
        )?)
    }

    /// Deactivates an approval rule (the company's admins acting for it, or staff); requests
    /// already made under it keep their chain.
    async fn company_approval_rule_deactivate(
        &self,
        ctx: &Context<'_>,
        input: CompanyApprovalRuleDeactivateInput,
    ) -> Result<CompanyApprovalRulePayload> {
        Ok(CompanyApprovalRulePayload::of(
            rules::deactivate(ctx.db(), ctx.request()?, input.id).await,
        )?)
    }

    /// Adds a shipping location (the company's admins acting for it, or staff).
    async fn company_location_add(
        &self,
        ctx: &Context<'_>,
        input: CompanyLocationAddInput,
    ) -> Result<CompanyLocationPayload> {
        let location = LocationInput {
            name: Some(input.name),
            address: Some(input.address),
            is_default: input.is_default,
        };
        Ok(CompanyLocationPayload::of(
            locations::add(ctx.db(), ctx.request()?, input.company_id, location).await,
        )?)
    }

    /// Changes a shipping location (the company's admins acting for it, or staff).
    async fn company_location_update(
        &self,
        ctx: &Context<'_>,
        input: CompanyLocationUpdateInput,
    ) -> Result<CompanyLocationPayload> {
        let location = LocationInput {
            name: input.name,
            address: input.address,
            is_default: input.is_default,
        };
        Ok(CompanyLocationPayload::of(
            locations::update(ctx.db(), ctx.request()?, input.id, location).await,
        )?)
    }

    /// Removes a shipping location (the company's admins acting for it, or staff); removing the
    /// default makes the oldest remaining one the default.
    async fn company_location_remove(
        &self,
        ctx: &Context<'_>,
        id: CompanyLocationId,
    ) -> Result<CompanyLocationPayload> {
        Ok(CompanyLocationPayload::of(
            locations::remove(ctx.db(), ctx.request()?, id).await,
        )?)
    }

    /// Invites an e-mail address to a company (its admins acting for it, or staff); a pending
    /// invitation of the same address is replaced. The token is returned once.
    async fn company_invite(
        &self,
        ctx: &Context<'_>,
        input: CompanyInviteInput,
    ) -> Result<CompanyInvitePayload> {
        Ok(CompanyInvitePayload::of(
            membership::invite::<Buyers>(
                ctx.db(),
                ctx.request()?,
                input.company_id,
                &input.email,
                input.role,
            )
            .await,
        )?)
    }

    /// Accepts an invitation to a company as the signed-in user, whose e-mail address must be
    /// the one invited.
    async fn company_invitation_accept(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<CompanyMemberPayload> {
        let outcome = membership::accept::<Buyers>(ctx.db(), ctx.request()?, &token).await;
        Ok(CompanyMemberPayload::of(outcome.map(CompanyMember::from))?)
    }

    /// Withdraws a pending invitation (the company's admins acting for it, or staff).
    async fn company_invitation_revoke(
        &self,
        ctx: &Context<'_>,
        id: InvitationId,
    ) -> Result<CompanyInvitationPayload> {
        Ok(CompanyInvitationPayload::of(
            membership::revoke::<Buyers>(ctx.db(), ctx.request()?, id).await,
        )?)
    }

    /// Gives a member another role (the company's admins acting for it, or staff); the last
    /// admin keeps theirs.
    async fn company_member_role_change(
        &self,
        ctx: &Context<'_>,
        input: CompanyMemberRoleInput,
    ) -> Result<CompanyMemberPayload> {
        let outcome = membership::change_role::<Buyers>(
            ctx.db(),
            ctx.request()?,
            input.company_id,
            input.user_id,
            input.role,
        )
        .await;
        Ok(CompanyMemberPayload::of(outcome.map(CompanyMember::from))?)
    }

    /// Sets a member's spending limits (the company's admins acting for it, or staff).
    async fn company_member_limits_set(
        &self,
        ctx: &Context<'_>,
        input: CompanyMemberLimitsInput,
    ) -> Result<CompanyMemberPayload> {
        let outcome = members::set_limits(
            ctx.db(),
            ctx.request()?,
            input.company_id,
            input.user_id,
            input.order_limit,
            input.monthly_limit,
        )
        .await;
        Ok(CompanyMemberPayload::of(outcome.map(CompanyMember::from))?)
    }

    /// Takes a member out of a company (its admins or staff, or the member leaving while acting
    /// for it); the last admin stays.
    async fn company_member_remove(
        &self,
        ctx: &Context<'_>,
        input: CompanyMemberInput,
    ) -> Result<CompanyMemberPayload> {
        let outcome =
            membership::remove::<Buyers>(ctx.db(), ctx.request()?, input.company_id, input.user_id)
                .await;
        Ok(CompanyMemberPayload::of(outcome.map(CompanyMember::from))?)
    }
}

async fn move_to(
    ctx: &Context<'_>,
    input: CompanyTransitionInput,
    to: CompanyStatus,
) -> Result<CompanyPayload> {
    Ok(CompanyPayload::of(
        super::transition(ctx.db(), ctx.request()?, input.id, to, input.reason).await,
    )?)
}
