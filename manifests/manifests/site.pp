# Entry point of the sample tree (puppet.manifest: manifests). Puppet 4+ has no `import`:
# classes live in modules/ on the modulepath and are included by name.
node default {
  include ntpclient
}
