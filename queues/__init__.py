"""I/O adapters: RabbitMQ topology, publishing and consuming; Redis state."""
