#!/usr/bin/perl
# corpus-check.pl - compare bparse (and bclassify) with a labelled corpus.
#
# usage: corpus-check.pl [-v] [-f FLOORS] BINDIR CORPUSDIR
#
# Runs BINDIR/bparse over every file named in CORPUSDIR/expected.tsv
# (and BINDIR/bclassify after it, when it exists), matches records to the
# labelled rows, prints agreement figures, and exits 1 when a figure is
# below its floor in FLOORS.  -v lists every disagreement.
use strict;
use warnings;
use Getopt::Std;
use IPC::Open2;

my %opt;
getopts('vf:', \%opt) or die "usage: corpus-check.pl [-v] [-f floors] bindir corpus\n";
my ($bin, $corpus) = @ARGV;
die "usage: corpus-check.pl [-v] [-f floors] bindir corpus\n" unless $corpus;
use Cwd 'abs_path';
$bin = abs_path($bin);
die "corpus-check.pl: $bin/bparse: not executable\n" unless -x "$bin/bparse";

# ---- the labels ----
my (%rows, @files);
open my $ex, '<', "$corpus/expected.tsv" or die "$corpus/expected.tsv: $!\n";
while (<$ex>) {
	chomp;
	next if /^#/;
	my ($file, $rcpt, $status, $code, $reason, $hard) = split /\t/;
	push @files, $file unless $rows{$file};
	push @{$rows{$file}}, { rcpt => lc $rcpt, status => $status,
	    code => $code, reason => $reason, hard => $hard };
}
close $ex;

# ---- our records ----
my $classify = -x "$bin/bclassify";
my $cmd = "cd '$corpus' && '$bin/bparse'";
$cmd .= " | '$bin/bclassify'" if $classify;
my $pid = open2(my $out, my $in, "$cmd");
print $in "$_\n" for @files;
close $in;
my %got;
while (<$out>) {
	chomp;
	my @f = map { $_ eq '-' ? '' : $_ } split /\t/, $_, -1;
	(my $src = $f[0]) =~ s/:\d+$//;
	push @{$got{$src}}, { rcpt => $f[2], action => $f[3], status => $f[4],
	    smtp => $f[5], detector => $f[8], diag => $f[9],
	    class => $f[10] // '', reason => $f[11] // '' };
}
waitpid $pid, 0;

sub slurp { local $/; open my $f, '<', shift or return ''; my $s = <$f>; $s }

# ---- matching ----
my %n;	# counters: "$set.$what" => [right, total]
sub count { my ($sets, $what, $ok) = @_;
	for my $s (@$sets) { $n{"$s.$what"}[1]++; $n{"$s.$what"}[0]++ if $ok } }

for my $file (@files) {
	my $text = slurp("$corpus/$file");
	my @sets = ('all');
	push @sets, 'dsn' if $text =~ m{message/delivery-status}i;
	my @recs = @{$got{$file} // []};
	my %used;
	my $i = 0;
	for my $row (@{$rows{$file}}) {
		my $rec;
		# The same address, else an Original-Recipient of that report
		# standing for the labelled Final-Recipient, else by position.
		for my $j (0 .. $#recs) {
			next if $used{$j} || $recs[$j]{rcpt} ne $row->{rcpt};
			$rec = $j; last;
		}
		my $rcpt_ok = defined $rec;
		if (!defined $rec) {
			for my $j (0 .. $#recs) {
				next if $used{$j};
				my $r = quotemeta $recs[$j]{rcpt};
				next unless $r ne '' &&
				    $text =~ /^Original-Recipient:.*$r/mi;
				$rec = $j; $rcpt_ok = 1; last;
			}
		}
		if (!defined $rec) {
			$rec = $i <= $#recs ? $i : undef;
			$rec = undef if defined $rec && $used{$rec};
		}
		$i++;
		$used{$rec} = 1 if defined $rec;
		my $r = defined $rec ? $recs[$rec] : {};
		if ($row->{rcpt} ne '-') {
			count(\@sets, 'recipient', $rcpt_ok);
			print "rcpt\t$file\twant $row->{rcpt}\tgot ",
			    ($r->{rcpt} // 'nothing'), "\n"
			    if $opt{v} && !$rcpt_ok;
		}
		if ($row->{status} =~ /^\d\.\d+\.\d+$/ && $row->{status} !~ /^\d\.0\.9\d\d$/) {
			my $ok = ($r->{status} // '') eq $row->{status};
			count(\@sets, 'status', $ok);
			print "status\t$file\twant $row->{status}\tgot ",
			    ($r->{status} // 'nothing'), "\t$row->{reason}\t",
			    ($r->{diag} // ''), "\n" if $opt{v} && !$ok;
		}
		next unless $classify;
		my $ok = ($r->{reason} // '') eq $row->{reason};
		count(\@sets, 'reason', $ok);
		print "reason\t$file\twant $row->{reason}\tgot ",
		    ($r->{reason} // 'nothing'), "\t", ($r->{diag} // ''), "\n"
		    if $opt{v} && !$ok;
		if ($rcpt_ok) {
			my $hard = ($r->{class} // '') eq 'hard' ? 1 : 0;
			count(\@sets, 'hard', $hard == $row->{hard});
			print "hard\t$file\twant $row->{hard}\tgot ",
			    ($r->{class} // 'nothing'), "\t$row->{reason}\n"
			    if $opt{v} && $hard != $row->{hard};
		}
	}
}

# ---- figures and floors ----
my %floor;
if ($opt{f}) {
	open my $fl, '<', $opt{f} or die "$opt{f}: $!\n";
	while (<$fl>) {
		next if /^\s*(#|$)/;
		my ($k, $v) = split;
		$floor{$k} = $v;
	}
}
my $bad = 0;
for my $k (sort keys %n) {
	my ($ok, $tot) = @{$n{$k}};
	$ok //= 0;
	my $pct = 100 * $ok / $tot;
	my $note = '';
	if (defined $floor{$k}) {
		$note = sprintf "floor %.1f", $floor{$k};
		if ($pct + 1e-9 < $floor{$k}) { $note .= "  BELOW"; $bad = 1 }
	}
	printf "%-16s %4d/%-4d %6.2f%%  %s\n", $k, $ok, $tot, $pct, $note;
}
for my $k (sort keys %floor) {
	next if $n{$k};
	print "$k: no figure for this floor\n";
	$bad = 1;
}
exit $bad;
