#include "noop_channel.hpp"

CLINICORE_CHANNEL_PLUGIN(clinicore::bench::NoopChannel)
