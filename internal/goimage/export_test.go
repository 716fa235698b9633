package goimage

// WithDefaults is Options.withDefaults for the tests of package goimage_test
// (they import testenv, which imports goimage).
func (o Options) WithDefaults(s Spec) (Options, error) { return o.withDefaults(s) }
