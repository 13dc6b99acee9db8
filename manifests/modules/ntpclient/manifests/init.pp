# @summary Keeps the host's clock in sync: the NTP client package, its config file from this tree,
#   and the service, restarted when either changes.
#
# Debian and Ubuntu use chrony's predecessor `ntp` historically, but chrony is the default NTP
# client on Debian 12, Ubuntu 22.04+ and Amazon Linux 2023 alike, so one package name serves all.
class ntpclient (
  String $package = 'chrony',
  String $service = $facts['os']['family'] ? {
    'RedHat' => 'chronyd',
    default  => 'chrony',
  },
  String $config_path = $facts['os']['family'] ? {
    'RedHat' => '/etc/chrony.conf',
    default  => '/etc/chrony/chrony.conf',
  },
) {
  package { $package:
    ensure => installed,
  }

  file { $config_path:
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    source  => 'puppet:///modules/ntpclient/chrony.conf',
    require => Package[$package],
  }

  service { $service:
    ensure    => running,
    enable    => true,
    subscribe => [Package[$package], File[$config_path]],
  }
}
