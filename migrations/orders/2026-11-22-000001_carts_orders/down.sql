DROP TABLE orders.outbox, orders.fulfillments, orders.payments, orders.allocations, orders.order_lines,
    orders.vendor_orders, orders.orders, orders.counters, orders.cart_lines, orders.carts;
