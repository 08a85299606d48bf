vmlinuz-6.1.0-9-amd64.sig
