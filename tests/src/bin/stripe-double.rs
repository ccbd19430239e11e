//! `stripe-double [--listen 127.0.0.1:4090]`: the testkit's Stripe double as a process, for
//! `cargo xtask up` when no `STRIPE_SECRET_KEY` is given: card payments, refunds, connected
//! accounts and payout transfers then work end to end against it (secret key `sk_test_double`,
//! webhook secret `whsec_test_double`). It holds everything in memory until it stops.

#![expect(clippy::print_stdout, reason = "it says where it listens")]

use cityos_testkit::stripe::StripeDouble;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut listen = "127.0.0.1:4090".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(address)) => listen = address,
            _ => panic!("usage: stripe-double [--listen ADDRESS]"),
        }
    }
    let double = StripeDouble::start_on(&listen).await;
    println!("Stripe double at {}", double.base);
    std::future::pending::<()>().await;
}
