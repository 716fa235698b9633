PHP_ARG_ENABLE([jbuildtest], [whether to enable the jbuild test agent], [--enable-jbuildtest])
if test "$PHP_JBUILDTEST" != "no"; then
  PHP_NEW_EXTENSION(jbuildtest, jbuildtest.c, $ext_shared)
fi
