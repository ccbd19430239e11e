//! The demo's credentials, kept in .data/demo.json between runs: the platform admin the subgraphs
//! start with, and the tenant admin, customer and vendor owner the seed signs up (passwords
//! generated on first run), plus the storefront key the seed writes back. The data itself is loaded by the `seed`
//! binary (`cityos_e2e::seed`, from `subgraphs/<name>/seed.json`), which reads and updates the
//! same file.

use crate::Result;
use crate::stack::random_hex;
use serde_json::{Value, json};
use std::path::Path;

/// An account's credentials.
pub struct Account {
    pub email: String,
    pub password: String,
}

/// The demo credentials, kept between runs.
pub struct Demo {
    pub platform_admin: Account,
    pub tenant_admin: Account,
    pub customer: Account,
    pub vendor_owner: Account,
    pub publishable_key: Option<String>,
}

fn account(value: &Value, default_email: &str) -> Result<Account> {
    let email = value["email"].as_str().unwrap_or(default_email).to_owned();
    let password = match value["password"].as_str() {
        Some(p) => p.to_owned(),
        None => random_hex(9)?,
    };
    Ok(Account { email, password })
}

impl Demo {
    /// Reads .data/demo.json, or makes new credentials.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let stored: Value = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        // The platform admin comes from CITYOS_ADMIN_EMAIL / CITYOS_ADMIN_PASSWORD when they are set.
        let mut platform_admin = account(&stored["platformAdmin"], "admin@cityos.local")?;
        if let Ok(email) = std::env::var("CITYOS_ADMIN_EMAIL") {
            platform_admin.email = email;
        }
        if let Ok(password) = std::env::var("CITYOS_ADMIN_PASSWORD") {
            platform_admin.password = password;
        }
        Ok(Self {
            platform_admin,
            tenant_admin: account(&stored["tenantAdmin"], "admin@dakkah.sa")?,
            customer: account(&stored["customer"], "customer@dakkah.sa")?,
            vendor_owner: account(&stored["vendorOwner"], "vendor@dakkah.sa")?,
            publishable_key: stored["publishableKey"].as_str().map(str::to_owned),
        })
    }

    /// Writes .data/demo.json.
    pub fn save(&self, path: &Path) -> Result<()> {
        let acc = |a: &Account| json!({ "email": a.email, "password": a.password });
        let value = json!({
            "platformAdmin": acc(&self.platform_admin),
            "tenantAdmin": acc(&self.tenant_admin),
            "customer": acc(&self.customer),
            "vendorOwner": acc(&self.vendor_owner),
            "publishableKey": self.publishable_key,
        });
        std::fs::write(path, serde_json::to_string_pretty(&value)?)?;
        Ok(())
    }
}
