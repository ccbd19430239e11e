//! Vendor teams: invitations and their acceptance, roles, leaving, and a team that always keeps
//! an owner, also when owners race.

use crate::common::{Shop, approved, raw, run, test_db};
use cityos_core::VendorRole;
use serde_json::{Value, json};

const INVITE: &str = "mutation($i: VendorInviteInput!) { vendorInvite(input: $i) {
    invitation { id email role status } token userErrors { field code } } }";
const ACCEPT: &str = "mutation($t: String!) { vendorInvitationAccept(token: $t) {
    member { email role vendor { handle } } userErrors { field code } } }";
const ROLE: &str = "mutation($i: VendorMemberRoleInput!) { vendorMemberRoleChange(input: $i) {
    member { role } userErrors { field code } } }";
const REMOVE: &str = "mutation($i: VendorMemberInput!) { vendorMemberRemove(input: $i) {
    member { email } userErrors { field code } } }";

fn code(r: &Value, mutation: &str) -> Value {
    r[mutation]["userErrors"][0]["code"].clone()
}

#[tokio::test]
async fn an_invitation_is_accepted_once_by_the_address_invited() {
    let t = test_db().await;
    let shop = Shop::new(&t, "team").await;
    let (vendor, owner) = approved(&t, &shop, "spice").await;
    let as_owner = shop.acting(owner, vendor, VendorRole::Owner);
    let invite = |email: &str, role: &str| json!({ "i": { "vendorId": vendor.to_string(), "email": email, "role": role } });

    let r = run(&t, &as_owner, INVITE, invite(" Omar@Team.Test ", "MANAGER")).await;
    assert_eq!(r["vendorInvite"]["invitation"]["email"], "omar@team.test");
    let token = r["vendorInvite"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(token.starts_with("vi_"));

    // Someone else signed in cannot use it; the invitee can, once.
    let (_, mallory) = shop.customer(&t, "mallory@team.test").await;
    let r = run(&t, &mallory, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        code(&r, "vendorInvitationAccept"),
        "INVITATION_EMAIL_MISMATCH"
    );
    let (omar_id, omar) = shop.customer(&t, "omar@team.test").await;
    let r = run(&t, &omar, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        r["vendorInvitationAccept"]["member"],
        json!({ "email": "omar@team.test", "role": "MANAGER", "vendor": { "handle": "spice" } })
    );
    let r = run(&t, &omar, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        code(&r, "vendorInvitationAccept"),
        "INVITATION_INVALID",
        "a replay changes nothing"
    );
    let r = run(
        &t,
        &omar,
        "{ myVendors { role vendor { handle } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["myVendors"],
        json!([{ "role": "MANAGER", "vendor": { "handle": "spice" } }])
    );

    // Inviting a member again is refused; a second invitation replaces the first.
    let r = run(&t, &as_owner, INVITE, invite("omar@team.test", "STAFF")).await;
    assert_eq!(code(&r, "vendorInvite"), "ALREADY_MEMBER");
    let first = run(&t, &as_owner, INVITE, invite("lina@team.test", "STAFF")).await["vendorInvite"]
        ["token"]
        .clone();
    let second = run(&t, &as_owner, INVITE, invite("lina@team.test", "STAFF")).await["vendorInvite"]["token"].clone();
    let (_, lina) = shop.customer(&t, "lina@team.test").await;
    let r = run(&t, &lina, ACCEPT, json!({ "t": first })).await;
    assert_eq!(code(&r, "vendorInvitationAccept"), "INVITATION_INVALID");
    // An expired invitation is refused.
    t.owner_sql("UPDATE vendors.invitations SET expires_at = now() - interval '1 second' WHERE status = 'PENDING'").await;
    let r = run(&t, &lina, ACCEPT, json!({ "t": second })).await;
    assert_eq!(code(&r, "vendorInvitationAccept"), "INVITATION_EXPIRED");
    // Garbage and another tenant's tokens are unknown here.
    let other = Shop::new(&t, "team-other").await;
    let (_, stranger) = other.customer(&t, "omar@team.test").await;
    for (who, tok) in [(&lina, json!("vi_garbage")), (&stranger, json!(token))] {
        let r = run(&t, who, ACCEPT, json!({ "t": tok })).await;
        assert_eq!(code(&r, "vendorInvitationAccept"), "INVITATION_INVALID");
    }

    // A manager may not invite; the member count is what was accepted.
    let as_manager = shop.acting(omar_id, vendor, VendorRole::Manager);
    let r = raw(&t, &as_manager, INVITE, invite("x@team.test", "STAFF")).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        t.visible_rows("vendors.members", Some(shop.info.id)).await,
        2
    );
}

#[tokio::test]
async fn a_team_keeps_an_owner() {
    let t = test_db().await;
    let shop = Shop::new(&t, "owners").await;
    let (vendor, owner) = approved(&t, &shop, "musk").await;
    let as_owner = shop.acting(owner, vendor, VendorRole::Owner);
    let member = |user: cityos_core::ids::UserId| json!({ "i": { "vendorId": vendor.to_string(), "userId": user.to_string() } });
    let role = |user: cityos_core::ids::UserId, role: &str| json!({ "i": { "vendorId": vendor.to_string(), "userId": user.to_string(), "role": role } });

    let r = run(&t, &as_owner, ROLE, role(owner, "MANAGER")).await;
    assert_eq!(code(&r, "vendorMemberRoleChange"), "LAST_OWNER");
    let r = run(&t, &as_owner, REMOVE, member(owner)).await;
    assert_eq!(code(&r, "vendorMemberRemove"), "LAST_OWNER");

    // A second owner joins; then each owner tries to remove the other at once: one wins.
    let token = run(&t, &as_owner, INVITE, json!({ "i": { "vendorId": vendor.to_string(), "email": "co@owners.test", "role": "OWNER" } }))
        .await["vendorInvite"]["token"].clone();
    let (co, co_ctx) = shop.customer(&t, "co@owners.test").await;
    run(&t, &co_ctx, ACCEPT, json!({ "t": token })).await;
    let as_co = shop.acting(co, vendor, VendorRole::Owner);
    for _ in 0..3 {
        let (x, y) = tokio::join!(
            run(&t, &as_owner, REMOVE, member(co)),
            run(&t, &as_co, REMOVE, member(owner)),
        );
        let removed = [&x, &y]
            .iter()
            .filter(|r| r["vendorMemberRemove"]["member"].is_object())
            .count();
        assert_eq!(removed, 1, "{x} {y}");
        let owners = t
            .count_in(
                shop.info.id,
                "SELECT count(*) AS n FROM vendors.members WHERE role = 'OWNER'",
            )
            .await;
        assert_eq!(owners, 1);
        // Put the team back: whoever stayed invites the other again.
        let (stayed, gone_email, gone_ctx) = if x["vendorMemberRemove"]["member"].is_object() {
            (&as_owner, "co@owners.test", co_ctx.clone())
        } else {
            (&as_co, "owner@musk.test", shop.customer_context_of(owner))
        };
        let token = run(&t, stayed, INVITE, json!({ "i": { "vendorId": vendor.to_string(), "email": gone_email, "role": "OWNER" } }))
            .await["vendorInvite"]["token"].clone();
        let r = run(&t, &gone_ctx, ACCEPT, json!({ "t": token })).await;
        assert!(r["vendorInvitationAccept"]["member"].is_object(), "{r}");
    }

    // A member leaves on their own (acting for the vendor); staff can remove anyone but the last owner.
    let r = run(&t, &as_co, REMOVE, member(co)).await;
    assert_eq!(r["vendorMemberRemove"]["member"]["email"], "co@owners.test");
    let r = run(&t, &shop.admin, REMOVE, member(owner)).await;
    assert_eq!(code(&r, "vendorMemberRemove"), "LAST_OWNER");
}
