#!/bin/sh
# make_certs.sh DIR: test certificates for the partner TLS link, made fresh.
set -eu
d="$1"; mkdir -p "$d"; cd "$d"
ca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1 CA" -keyout "$1-ca.key" -out "$1-ca.pem" 2>/dev/null
}
cert() { # name ca [startdate enddate]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.csr" 2>/dev/null
	if [ $# -gt 2 ]; then
		mkdir -p "ca-$2"; : > "ca-$2/index"; echo 01 > "ca-$2/serial"
		printf '[ca]\ndefault_ca=c\n[c]\ndatabase=ca-%s/index\nserial=ca-%s/serial\nnew_certs_dir=ca-%s\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' "$2" "$2" "$2" > "ca-$2.cnf"
		openssl ca -batch -config "ca-$2.cnf" -cert "$2-ca.pem" -keyfile "$2-ca.key" \
			-startdate "$3" -enddate "$4" -in "$1.csr" -out "$1.crt" 2>/dev/null
	else
		openssl x509 -req -in "$1.csr" -CA "$2-ca.pem" -CAkey "$2-ca.key" -CAcreateserial \
			-days 2 -out "$1.crt" 2>/dev/null
	fi
	cat "$1.crt" "$1.key" > "$1.pem"
}
ca omo; ca acme; ca other
cert server omo
cert acme-client acme
cert other-client other
cert acme-expired acme 20200101000000Z 20200102000000Z
