package testenv

// PushFrontendImage builds the jbuild frontend image of this checkout (as
// FrontendImage does) and pushes it to the registry at reg
// ("127.0.0.1:PORT"), for programs outside the tests (`make k8s-demo`);
// it returns the image's reference.
func PushFrontendImage(reg string) (string, error) { return pushFrontendImage(reg) }
