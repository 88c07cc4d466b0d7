cmake_minimum_required(VERSION 3.25)
# Differential mode end to end, on two in-process references (no root needed): a DUT that agrees with
# its reference exits 0, one that departs exits 1 and lists the departures on stderr, in report.json
# (re-rendered by natcert report) and in report.html; the reference's report lands in OUT/against/;
# a bad --against is a one-line usage error before anything runs. Also --skip.
#   cmake -DNATCERT=exe -DWORK=dir -P differential_scenario.cmake
include("${CMAKE_CURRENT_LIST_DIR}/natcert_command.cmake")

function(require condition_text)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "${condition_text}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(selection "rfc4787.req1.*,rfc4787.req3*,rfc4787.req8*,rfc4787.req9*")

# 1. A DUT that is the reference agrees with it: exit 0, an empty "differential" block.
set(agree "${WORK}/agree")
natcert(0 run --quiet --dut reference:rfc-strict --against reference:rfc-strict --test "${selection}" --out "${agree}")
require("no agreement summary on stderr:\n${last_err}" last_err MATCHES "against reference:rfc-strict: the DUT agrees")
foreach(name report.json junit.xml report.html pcap against/report.json against/junit.xml against/report.html against/pcap)
  require("natcert run --against did not write ${agree}/${name}" EXISTS "${agree}/${name}")
endforeach()
file(READ "${agree}/report.json" json)
string(JSON against GET "${json}" differential against)
string(JSON departures LENGTH "${json}" differential tests)
string(JSON facts LENGTH "${json}" differential profile)
string(JSON agreeing GET "${json}" differential agreeing_tests)
string(JSON code GET "${json}" differential exit_code)
require("agree: differential ${against} ${departures} ${facts} ${agreeing} ${code}"
        against STREQUAL "reference:rfc-strict" AND departures EQUAL 0 AND facts EQUAL 0 AND agreeing GREATER 3 AND code EQUAL 0)

# 2. A symmetric NAT departs from rfc-strict: REQ-1's test and the mapping fact, exit 1.
set(depart "${WORK}/depart")
natcert(1 run --quiet --dut reference:symmetric --against reference:rfc-strict --test "${selection}" --out "${depart}")
require("no REQ-1 departure on stderr:\n${last_err}"
        last_err MATCHES "departs: rfc4787.req1.mapping.udp: DUT FAIL, reference PASS")
require("no udp.mapping departure on stderr:\n${last_err}"
        last_err MATCHES "departs: profile udp.mapping: DUT address-and-port-dependent, reference endpoint-independent")
require("no summary line on stderr:\n${last_err}" last_err MATCHES "the DUT departs: [1-9][0-9]* test\\(s\\) .*. exit 1\n$")
file(READ "${depart}/report.json" json)
string(JSON departures LENGTH "${json}" differential tests)
set(found_req1 FALSE)
math(EXPR last "${departures} - 1")
foreach(i RANGE ${last})
  string(JSON id GET "${json}" differential tests ${i} test)
  if(id STREQUAL "rfc4787.req1.mapping.udp")
    string(JSON dut GET "${json}" differential tests ${i} dut_verdict)
    string(JSON ref GET "${json}" differential tests ${i} reference_verdict)
    require("req1 departure ${dut} vs ${ref}" dut STREQUAL "FAIL" AND ref STREQUAL "PASS")
    set(found_req1 TRUE)
  endif()
endforeach()
require("report.json lists no REQ-1 departure" found_req1)
string(JSON code GET "${json}" differential exit_code)
require("depart: differential exit_code ${code}" code EQUAL 1)
file(READ "${depart}/report.html" html_before)
require("report.html has no departures section" html_before MATCHES "Departures from the reference")
require("report.html does not link the reference's report" html_before MATCHES "href=\"against/report.html\"")
file(READ "${depart}/against/report.json" reference_json)
string(JSON reference_dut GET "${reference_json}" run dut)
require("against/report.json is not the reference's run: ${reference_dut}" reference_dut MATCHES "rfc-strict")

# 3. natcert report re-renders the departures from report.json alone.
file(REMOVE "${depart}/report.html")
natcert(0 report "${depart}" --format html)
file(READ "${depart}/report.html" html_after)
require("natcert report rendered a different report.html" html_before STREQUAL html_after)

# 4. A bad --against is a one-line usage error, before the DUT runs.
set(bad "${WORK}/bad")
foreach(spec "linux-nft-masquerade" "reference:no-such-preset" "reference:" "reference:rfc-strict,udp.maping=x")
  natcert(2 run --quiet --against "${spec}" --out "${bad}")
  string(STRIP "${last_err}" stripped)
  require("--against ${spec}: not one line:\n${last_err}" stripped MATCHES "^natcert run: --against [^\n]+$")
  require("--against ${spec}: the DUT ran" NOT EXISTS "${bad}/report.json")
endforeach()
natcert(2 run --quiet --against reference:rfc-strict --expect "${WORK}/none.expect" --out "${bad}")

# 5. --skip leaves tests out (globs over ids and requirement ids); a glob matching nothing is an error.
set(skipped "${WORK}/skip")
natcert(0 run --quiet --test "${selection}" --skip "rfc4787.req8*,RFC4787-REQ-9*" --format json --out "${skipped}")
file(READ "${skipped}/report.json" json)
string(JSON count LENGTH "${json}" tests)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON id GET "${json}" tests ${i} id)
  require("--skip left ${id} in" NOT id MATCHES "^rfc4787\\.req(8|9)")
endforeach()
natcert(2 run --quiet --skip "rfc4787.req1.*,no-such-test*" --out "${bad}")
require("--skip typo: ${last_err}" last_err MATCHES "--skip \"no-such-test\\*\" matches no test")
natcert(2 run --quiet --test "rfc4787.req1.*" --skip "rfc4787.req1.*" --out "${bad}")
natcert(0 list --skip "rfc4787.req5*")
require("list --skip left a timer test in" NOT last_out MATCHES "rfc4787.req5")
message(STATUS "differential scenario: ok")
