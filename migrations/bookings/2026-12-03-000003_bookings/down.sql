DROP TABLE bookings.deliveries, bookings.subscriptions, bookings.outbox;
DROP TABLE bookings.bookings;
