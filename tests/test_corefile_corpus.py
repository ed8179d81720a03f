"""Every Corefile of ../shared/corpus parses, or is rejected with the positioned error
that is right for it (SOURCES.tsv says which are templates, fuzz inputs, or rejected
by stock CoreDNS 1.14 and why). Parsed files also go through configure() and the
formatter round trip."""

import time
from pathlib import Path

import pytest

from kalc_formal.coredns.corefile import format_corefile, load_corefile, parse_corefile
from kalc_formal.coredns.plugins import CoreDNSVersion, configure, valid_directives
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.source import Source

CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "corpus"
COREFILES = CORPUS / "corefiles"
VERSION = CoreDNSVersion.parse("1.14.7")
# The environment coredns/caddy's TestEnvironmentReplacement sets for its inputs.
ENV = {"PORT": "8080", "ADDRESS": "servername.com", "FOOBAR": "foobar", "PARTIAL_DIR": "r1"}

pytestmark = pytest.mark.corpus

# file: (line, column, start of the first error message), for CoreDNS 1.14.7.
# Every file not listed here must parse and configure.
EXPECTED_REJECTIONS = {
    'aks-engine__parts-k8s-addons-coredns-Corefile.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L588.Corefile': (2, 1, "Unknown directive 'dir1'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L598.Corefile': (2, 1, "Unknown directive 'dir1'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L605.Corefile': (2, 1, "Unknown directive 'dir1'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L612.Corefile': (1, 1, 'expecting data after last colon: ":"'),  # caddy parser test: {$PORT$} is unset, key ':'
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L619.Corefile': (2, 1, "Unknown directive 'dir1'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-caddy__parse_test-TestEnvironmentReplacement-L626.Corefile': (2, 1, "Unknown directive 'answer'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-caddy__parse_test-TestSnippets-L640.Corefile': (3, 4, "Unknown directive 'gzip'"),  # caddy parser test, not a CoreDNS plugin
    'coredns-coredns__README-block10.Corefile': (2, 12, 'File to import not found: example1.txt'),  # the imported file is not in the corpus
    'coredns-coredns__README-block11.Corefile': (2, 5, "Unknown directive ''"),  # the directive is an unset {$ENV_VAR}
    'coredns-coredns__notes-coredns-002-block4.Corefile': (3, 21, 'plugin/cache: strconv.Atoi: parsing "CAPACITY": invalid syntax'),  # documentation placeholder
    'coredns-coredns__notes-coredns-1.8.0-block1.Corefile': (3, 9, "plugin/file: unknown property 'transfer'"),  # file transfer moved to the transfer plugin in 1.8.0
    'coredns-coredns__plugin-import-readme-block4.Corefile': (2, 11, 'File to import not found: config/common.conf'),  # the imported file is not in the corpus
    'coredns-coredns__plugin-nomad-readme-block4.Corefile': (9, 5, 'plugin/cache: this plugin can only be used once per Server Block'),  # cache twice in one block (ErrOnce)
    'coredns-coredns__plugin-template-readme-block7.Corefile': (6, 7, "plugin/template: Wrong argument count or unexpected line ending after 'var'"),  # template var/expr came after the v1.14.7 tag (a1154dcee)
    'coredns-coredns__test-acl-TestCacheACLAuthorization-returnfmtSprintf.Corefile': (4, 13, 'plugin/acl: illegal CIDR notation "%s/32"'),  # fmt.Sprintf template
    'coredns-coredns__test-acme-TestACMEDNS01CertificateManagement-corefile.Corefile': (1, 1, 'zone is not a valid domain name: .:%d'),  # fmt.Sprintf template
    'coredns-coredns__test-corefile-TestCorefileParsing-PR7571_InvalidBlockFailsToStart.Corefile': (3, 13, "Unexpected '''' after the closing '}' of a block"),  # fuzz input; CoreDNS fails with ErrOnce on the token after the block
    'coredns-coredns__test-multisocket-TestMultisocket_Restart-coreTmpl.Corefile': (1, 1, 'zone is not a valid domain name: .:%d'),  # fmt.Sprintf template
    'coredns-coredns__test-server-TestMultiZoneBlockConfigs-corefile.Corefile': (1, 1, 'zone is not a valid domain name: .:%d'),  # fmt.Sprintf template
    'coredns-corefile-migration__corefile-tool-unsupported-TestNewUnsupportedCmd-corefile-1.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__defaultConf-coredns-1.1.3.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__defaultConf-coredns-1.2.6.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__defaultConf-coredns-1.3.1.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-corefile-TestCorefile-startCorefile-1.Corefile': (2, 5, "Unknown directive 'error'"),  # not a CoreDNS plugin
    'coredns-corefile-migration__migration-migrate-TestDefault-defaultCorefiles-1.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestDefault-literal-1.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestDefault-literal-4.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestDefault-nonDefaultCorefiles-1.Corefile': (7, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestDeprecated-startCorefile-1.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-expectedCorefile-11.Corefile': (7, 5, 'plugin/autopath: no resolv-conf specified (autopath takes no block)'),  # autopath with a block: no resolv-conf specified
    'coredns-corefile-migration__migration-migrate-TestMigrate-expectedCorefile-2.Corefile': (11, 9, "plugin/forward: Wrong argument count or unexpected line ending after 'except'"),  # forward except without names
    'coredns-corefile-migration__migration-migrate-TestMigrate-expectedCorefile-6.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-10.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-11.Corefile': (5, 5, 'plugin/autopath: no resolv-conf specified (autopath takes no block)'),  # autopath with a block: no resolv-conf specified
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-12.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-13.Corefile': (3, 9, "plugin/kubernetes: unknown property 'transfer'"),  # kubernetes transfer was removed in 1.8.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-2.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-3.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-5.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-6.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-7.Corefile': (11, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-8.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrate-startCorefile-9.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestMigrateDown-expectedCorefile-1.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestMigrateDown-expectedCorefile-2.Corefile': (6, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestMigrateDown-startCorefile-1.Corefile': (7, 9, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'coredns-corefile-migration__migration-migrate-TestUnsupported-startCorefile-1.Corefile': (15, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestUnsupported-startCorefile-3.Corefile': (10, 5, "Unknown directive 'proxy'"),  # proxy left CoreDNS in 1.5.0
    'coredns-corefile-migration__migration-migrate-TestUnsupported-startCorefile-4.Corefile': (9, 5, "Unknown directive 'invalid'"),  # the test's deliberate unsupported plugin
    'coredns-deployment__Upgrading_CoreDNS-md-configmap-Corefile.Corefile': (2, 5, "Unknown directive 'startup'"),  # startup was removed in 1.1
    'coredns-deployment__kubernetes-coredns.yaml.sed-Corefile.Corefile': (18, 1, "Unknown directive '}STUBDOMAINS'"),  # sed template
    'coredns-helm__chart-templates-configmap-Corefile.Corefile': (2, 1, "Unknown directive '{{'"),  # Go/Helm template
    'coredns-learning-coredns__plugins-onlyone-Corefile.Corefile': (3, 3, "Unknown directive 'onlyone'"),  # external plugin
    'coredns-learning-coredns__plugins-setupcheck-Corefile.Corefile': (2, 3, "Unknown directive 'setupcheck'"),  # external plugin
    'coredns-policy__README-block2.Corefile': (2, 4, "Unknown directive 'firewall'"),  # external plugin
    'coredns-policy__README-block3.Corefile': (2, 4, "Unknown directive 'firewall'"),  # external plugin
    'coredns-policy__README-block4.Corefile': (2, 4, "Unknown directive 'firewall'"),  # external plugin
    'coredns-policy__README-block5.Corefile': (3, 4, "Unknown directive 'metadata_edns0'"),  # external plugin
    'coredns-policy__README-block6.Corefile': (6, 4, "Unknown directive 'firewall'"),  # external plugin
    'coredns-policy__README-block7.Corefile': (2, 3, "Unknown directive 'firewall'"),  # external plugin
    'coredns-policy__plugin-opa-README-block2.Corefile': (2, 3, "Unknown directive 'opa'"),  # external plugin
    'coredns-policy__plugin-themis-README-block2.Corefile': (2, 3, "Unknown directive 'themis'"),  # external plugin
    'coredns-rrl__README-block2.Corefile': (3, 3, "Unknown directive 'rrl'"),  # external plugin
    'k3s__manifests-coredns.yaml-66c487b-Corefile.Corefile': (20, 12, 'import /etc/coredns/custom/*.override leaves the import root'),  # absolute import outside the corpus
    'k3s__manifests-coredns_windows-Corefile.Corefile': (7, 7, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'kubernetes-perf-tests__dns-cluster-coredns-configmap-Corefile.Corefile': (6, 7, "plugin/kubernetes: unknown property 'upstream'"),  # kubernetes upstream was removed in 1.7.0
    'kubernetes__kubeadm-manifests-go-CoreDNSConfigMap-Corefile.Corefile': (17, 5, "Unknown directive '{{-'"),  # Go/Helm template
    'kubespray__coredns-config-Corefile.Corefile': (2, 1, "Unknown directive '{%'"),  # Jinja2 template
    'kubespray__nodelocaldns-config-Corefile-second.Corefile': (2, 1, "Unknown directive '{%'"),  # Jinja2 template
    'kubespray__nodelocaldns-config-Corefile.Corefile': (2, 1, "Unknown directive '{%'"),  # Jinja2 template
    'openshift-cluster-dns-operator__controller_dns_configmap-go-corefileTemplate.Corefile': (3, 1, "Unknown directive '{{range'"),  # Go/Helm template
    'openshift-cluster-dns-operator__testdata-default_corefile_ocp_dnsnameresolver.Corefile': (15, 5, "Unknown directive 'ocp_dnsnameresolver'"),  # external plugin
    'openshift-cluster-dns-operator__testdata-default_corefile_ocp_dnsnameresolver_with_multiple_namespaces.Corefile': (23, 5, "Unknown directive 'ocp_dnsnameresolver'"),  # external plugin
    'openshift-machine-config-operator__on-prem-coredns-corefile-Corefile.tmpl.Corefile': (4, 5, "Unknown directive 'mdns'"),  # external plugin, in a template
}


def corpus_files():
    if not COREFILES.is_dir():
        return []
    return sorted(path.name for path in COREFILES.iterdir())


@pytest.fixture(autouse=True)
def _corpus_present():
    if not COREFILES.is_dir():
        pytest.skip(f"../shared/corpus not found: {COREFILES}")


def read(name):
    return load_corefile(COREFILES / name, env=ENV, valid_directives=valid_directives(VERSION))


@pytest.mark.parametrize("name", corpus_files() or ["(corpus absent)"])
def test_corpus_corefile(name):
    if name in EXPECTED_REJECTIONS:
        line, column, message = EXPECTED_REJECTIONS[name]
        with pytest.raises((ConfigError, ConfigErrors)) as info:
            configure(read(name), version=VERSION)
        error = info.value.errors[0] if isinstance(info.value, ConfigErrors) else info.value
        assert error.message.startswith(message)
        assert (error.span.path, error.span.line, error.span.column) == (str(COREFILES / name), line, column)
        assert str(error).splitlines()[-1].strip() == "^"
        return
    corefile = read(name)
    config = configure(corefile, version=VERSION)
    text = format_corefile(corefile)
    again = parse_corefile(Source("formatted", text), valid_directives=valid_directives(VERSION))
    assert again == corefile
    assert format_corefile(again) == text
    assert configure(again, version=VERSION) == config


def test_corpus_counts():
    names = corpus_files()
    assert len(names) == 383
    assert set(EXPECTED_REJECTIONS) <= set(names)
    assert len(EXPECTED_REJECTIONS) == 75


@pytest.mark.parametrize("release", ["1.1.3", "1.2.6", "1.3.1", "1.6.2", "1.6.7", "1.7.0"])
def test_each_release_accepts_its_own_default_corefile(release):
    """coredns/corefile-migration's default Corefile per release, read by that release's rules
    (proxy before 1.5.0, kubernetes upstream before 1.7.0)."""
    version = CoreDNSVersion.parse(release)
    path = COREFILES / f"coredns-corefile-migration__defaultConf-coredns-{release}.Corefile"
    config = configure(load_corefile(path, valid_directives=valid_directives(version)), version=version)
    names = [plugin.name for plugin in config.blocks[0].plugins]
    assert names[-1] == ("proxy" if version < CoreDNSVersion.parse("1.3.0") else "forward")


def test_the_largest_corpus_corefile_parses_well_under_a_second():
    parse_corefile(Source("warm-up", ". {\n}\n"))
    sizes = sorted((path.stat().st_size, path.name) for path in COREFILES.iterdir() if path.name not in EXPECTED_REJECTIONS)
    largest = sizes[-1][1]
    start = time.perf_counter()
    configure(read(largest), version=VERSION)
    assert time.perf_counter() - start < 0.25
