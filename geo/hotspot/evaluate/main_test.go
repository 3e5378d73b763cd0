package evaluate_test

import (
	"os"
	"testing"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
