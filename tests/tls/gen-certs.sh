#!/bin/sh
# gen-certs.sh DIR - a development CA and server certificates for ward's TLS
# (make run, the unit tests, the fuzz target).  Needs the openssl CLI.
#
# Everything is generated fresh into DIR (under build/, never committed:
# the keys are private).  Server certificates name 127.0.0.1, localhost and
# ::1 (subjectAltName) and are signed by ca.pem:
#   ca.pem ca.key                 development CA (EC P-256), 10 years
#   server-ec.pem server-ec.key   EC P-256 leaf + CA (chain), SEC1 key
#   server-ec.p8.key              the same key as PKCS#8
#   server-ec2.pem server-ec2.key a second EC P-256 leaf (reload tests)
#   server-rsa.pem server-rsa.key RSA-2048 leaf + CA, PKCS#1 key
#   server-rsa.p8.key             the same key as PKCS#8
# and, for the refusal tests:
#   expired.pem expired.key       a leaf valid 2020-01-01 .. 2021-01-01
#   ed25519.key                   a key BearSSL cannot use
#   secp256k1.key                 an EC key on a curve BearSSL lacks
#   encrypted.key                 server-ec's key, password-protected
#   notpem.txt                    no PEM object at all
set -eu
out=${1:?usage: gen-certs.sh DIR}
command -v openssl >/dev/null 2>&1 || {
	echo "gen-certs.sh: the openssl CLI is needed (apt-get install openssl)" >&2
	exit 1
}
tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
q() { "$@" >/dev/null 2>&1 || { echo "gen-certs.sh: failed: $*" >&2; "$@"; exit 1; }; }

san="subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1"
q openssl ecparam -name prime256v1 -genkey -noout -out ca.key
q openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=ward development CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# leaf NAME KEYGEN-ARGS...: NAME.key (traditional form), NAME.pem (leaf+CA)
leaf() {
	name=$1
	shift
	q openssl genpkey "$@" -out "$name.p8.key"
	q openssl req -new -key "$name.p8.key" -subj "/CN=localhost" -out "$name.csr"
	printf '%s\n' "$san" "basicConstraints=CA:FALSE" \
		"extendedKeyUsage=serverAuth" > "$name.ext"
	q openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 825 -sha256 -extfile "$name.ext" -out "$name.leaf"
	cat "$name.leaf" ca.pem > "$name.pem"
}
leaf server-ec -algorithm EC -pkeyopt ec_paramgen_curve:P-256
q openssl ec -in server-ec.p8.key -out server-ec.key
leaf server-ec2 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
q openssl ec -in server-ec2.p8.key -out server-ec2.key
leaf server-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
q openssl rsa -in server-rsa.p8.key -traditional -out server-rsa.key

# an expired leaf: `openssl ca` is the 3.0 CLI that takes explicit dates
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out expired.key
q openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
: > index.txt
echo 01 > serial
cat > ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
[p]
commonName = supplied
CNF
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -notext \
	-startdate 20200101000000Z -enddate 20210101000000Z \
	-in expired.csr -out expired.pem

q openssl genpkey -algorithm ED25519 -out ed25519.key
q openssl ecparam -name secp256k1 -genkey -noout -out secp256k1.key
q openssl pkcs8 -topk8 -in server-ec.key -passout pass:ward -out encrypted.key
echo "not a PEM file" > notpem.txt

rm -f ./*.csr ./*.ext ./*.leaf ./*.srl index.txt* serial* ca.cnf ./01.pem
chmod 600 ./*.key
cd - >/dev/null
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
touch "$out/.stamp"
