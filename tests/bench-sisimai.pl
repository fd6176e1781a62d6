#!/usr/bin/perl
# bench-sisimai.pl MBOX - parse MBOX with Sisimai, as Sisimai->make()
# does, but counting as it goes instead of keeping every record (which
# would measure memory growth, not parsing).  Prints one line:
#   sisimai VERSION messages N records M seconds S
use strict;
use warnings;
use Time::HiRes qw(time);
use Sisimai;
use Sisimai::Mail;
use Sisimai::Message;
use Sisimai::Data;

my $path = shift or die "usage: bench-sisimai.pl MBOX\n";
my ($msgs, $recs) = (0, 0);
my $t0 = time;
my $mail = Sisimai::Mail->new($path) or die "sisimai: $path: cannot open\n";
while (my $r = $mail->data->read) {
	$msgs++;
	my $m = Sisimai::Message->new(data => $r) or next;
	my $d = Sisimai::Data->make(data => $m, delivered => 1,
	    origin => $mail->data->path);
	$recs += scalar @$d if $d;
}
printf "sisimai %s messages %d records %d seconds %.3f\n",
    Sisimai->version, $msgs, $recs, time - $t0;
